import java.math.BigDecimal;
import java.util.Base64;
public class DecimalGolden {
  public static void main(String[] a) {
    String[][] cases = {{"0", "0"}, {"0.00", "2"}, {"1", "0"}, {"-1", "0"}, {"127", "0"}, {"128", "0"}, {"-128", "0"},
      {"-129", "0"}, {"255", "0"}, {"256", "0"}, {"-12.50", "2"}, {"12.5", "2"}, {"99999.99", "2"},
      {"-0.001", "3"}, {"123456789012345678901234567890.123456789", "9"}, {"-32768", "0"}, {"32767", "0"},
      {"65535", "0"}, {"-65536", "0"}, {"1.5", "4"}};
    for (String[] c : cases) {
      BigDecimal d = new BigDecimal(c[0]).setScale(Integer.parseInt(c[1]));
      System.out.println(c[0] + " " + c[1] + " " + Base64.getEncoder().encodeToString(d.unscaledValue().toByteArray()));
    }
  }
}
