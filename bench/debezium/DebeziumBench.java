// Debezium 3.6's embedded engine capturing a PostgreSQL workload into Kafka,
// the peer of `phony capture` in bench/debezium_vs_phony.sh. Each change
// event is sent to Kafka (acks=all, idempotent, lz4, as phony's producer)
// and the batch is marked processed once the producer has flushed it.
// Stops after the given number of change events and prints the timings.
//
//   java -cp 'libs/*:classes' DebeziumBench HOST PORT DB SLOT PUBLICATION BROKERS TOPIC_PREFIX EVENTS
import io.debezium.engine.ChangeEvent;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.format.Json;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

public class DebeziumBench {
  public static void main(String[] args) throws Exception {
    final String host = args[0], port = args[1], db = args[2], slot = args[3], publication = args[4];
    final String brokers = args[5], prefix = args[6];
    final long target = Long.parseLong(args[7]);

    Properties admin = new Properties();
    admin.put("bootstrap.servers", brokers);
    try (Admin a = Admin.create(admin)) {
      a.createTopics(List.of(new NewTopic(prefix + ".public.items", 1, (short) 1))).all().get();
    }

    Properties pp = new Properties();
    pp.put("bootstrap.servers", brokers);
    pp.put("acks", "all");
    pp.put("enable.idempotence", "true");
    pp.put("compression.type", "lz4");
    pp.put("linger.ms", "20");
    pp.put("batch.size", "1048576");
    pp.put("key.serializer", StringSerializer.class.getName());
    pp.put("value.serializer", StringSerializer.class.getName());
    final KafkaProducer<String, String> producer = new KafkaProducer<>(pp);

    Properties p = new Properties();
    p.setProperty("name", "bench");
    p.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
    p.setProperty("offset.storage", "org.apache.kafka.connect.storage.MemoryOffsetBackingStore");
    p.setProperty("offset.flush.interval.ms", "1000");
    p.setProperty("database.hostname", host);
    p.setProperty("database.port", port);
    p.setProperty("database.user", "postgres");
    p.setProperty("database.password", "");
    p.setProperty("database.dbname", db);
    p.setProperty("topic.prefix", prefix);
    p.setProperty("plugin.name", "pgoutput");
    p.setProperty("slot.name", slot);
    p.setProperty("publication.name", publication);
    p.setProperty("publication.autocreate.mode", "disabled");
    p.setProperty("snapshot.mode", "no_data");
    p.setProperty("max.batch.size", "4096");
    p.setProperty("max.queue.size", "16384");

    final AtomicLong events = new AtomicLong();
    final AtomicLong firstNanos = new AtomicLong();
    final CountDownLatch done = new CountDownLatch(1);
    final long start = System.nanoTime();
    DebeziumEngine<ChangeEvent<String, String>> engine = DebeziumEngine.create(Json.class).using(p)
        .notifying((records, committer) -> {
          firstNanos.compareAndSet(0, System.nanoTime());
          for (ChangeEvent<String, String> r : records) {
            if (r.value() != null) events.incrementAndGet();
            producer.send(new ProducerRecord<>(r.destination(), r.key(), r.value()));
            committer.markProcessed(r);
          }
          producer.flush();
          committer.markBatchFinished();
          if (events.get() >= target) done.countDown();
        })
        .using((success, message, error) -> {
          if (!success) {
            System.err.println("debezium stopped: " + message);
            done.countDown();
          }
        })
        .build();
    ExecutorService executor = Executors.newSingleThreadExecutor();
    executor.execute(engine);
    done.await();
    final long end = System.nanoTime();
    engine.close();
    executor.shutdown();
    executor.awaitTermination(30, TimeUnit.SECONDS);
    producer.close();
    System.err.printf("debezium harness: events %d  seconds_total %.2f  seconds_from_first_event %.2f%n", events.get(),
        (end - start) / 1e9, (end - firstNanos.get()) / 1e9);
    if (events.get() < target) System.exit(1);
  }
}
