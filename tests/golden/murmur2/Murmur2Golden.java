import org.apache.kafka.common.utils.Utils;
import java.nio.charset.StandardCharsets;
public class Murmur2Golden {
  public static void main(String[] a) {
    String[] keys = {"", "a", "ab", "abc", "abcd", "abcde", "phony", "public.users\u0000\u0001", "héllo wörld ✓", "0123456789abcdef0123456789abcdef", "key-42", "\u00ff\u00fe"};
    for (String k : keys) {
      byte[] b = k.getBytes(StandardCharsets.UTF_8);
      int h = Utils.murmur2(b);
      StringBuilder hex = new StringBuilder();
      for (byte x : b) hex.append(String.format("%02x", x));
      System.out.println(hex + " " + h + " " + (Utils.toPositive(h) % 6) + " " + (Utils.toPositive(h) % 100));
    }
  }
}
