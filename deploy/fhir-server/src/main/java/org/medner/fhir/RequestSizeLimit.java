package org.medner.fhir;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;

/**
 * A request-size limit in front of the FHIR servlet (issue 20): a request body over
 * {@code medner.max-request-bytes} (FHIR_SERVER_MAX_REQUEST_BYTES, default 16 MiB) is answered
 * 413 with an OperationOutcome before HAPI parses it, so one huge transaction cannot exhaust the
 * heap. A declared Content-Length is checked up front; a chunked body is read up to the limit
 * (and refused past it) before HAPI sees it.
 */
@Configuration
public class RequestSizeLimit {
  private static final Logger log = LoggerFactory.getLogger(RequestSizeLimit.class);

  @Bean
  public FilterRegistrationBean<Filter> requestSizeLimitFilter(@Value("${medner.max-request-bytes:16777216}") long maxBytes) {
    FilterRegistrationBean<Filter> reg = new FilterRegistrationBean<>(new LimitFilter(maxBytes));
    reg.addUrlPatterns("/fhir/*");
    reg.setOrder(Ordered.HIGHEST_PRECEDENCE);
    reg.setName("medner-request-size-limit");
    log.info("request-size limit: {} bytes", maxBytes);
    return reg;
  }

  static final class LimitFilter implements Filter {
    private final long maxBytes;

    LimitFilter(long maxBytes) {
      this.maxBytes = maxBytes;
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException, ServletException {
      HttpServletRequest http = (HttpServletRequest) req;
      long declared = http.getContentLengthLong();
      if (declared > maxBytes) {
        tooLarge((HttpServletResponse) res, declared);
        return;
      }
      boolean hasBody = declared > 0 || http.getHeader("Transfer-Encoding") != null;
      if (declared >= 0 || !hasBody) {
        chain.doFilter(req, res);
        return;
      }
      // Chunked: read at most maxBytes + 1 before HAPI does.
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      try (InputStream in = http.getInputStream()) {
        byte[] chunk = new byte[64 * 1024];
        for (int n; (n = in.read(chunk)) != -1; ) {
          buf.write(chunk, 0, n);
          if (buf.size() > maxBytes) {
            tooLarge((HttpServletResponse) res, buf.size());
            return;
          }
        }
      }
      byte[] body = buf.toByteArray();
      chain.doFilter(new Buffered(http, body), res);
    }

    private void tooLarge(HttpServletResponse res, long bytes) throws IOException {
      log.warn("request refused: body of {} bytes over the limit of {}", bytes, maxBytes);
      res.setStatus(413);
      res.setContentType("application/fhir+json;charset=utf-8");
      res.setHeader("Connection", "close");
      String body = "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"too-costly\","
          + "\"diagnostics\":\"request body of " + bytes + " bytes is over this server's limit of " + maxBytes + " bytes\"}]}";
      res.getOutputStream().write(body.getBytes(StandardCharsets.UTF_8));
    }
  }

  /** A request whose body was already read into memory. */
  static final class Buffered extends HttpServletRequestWrapper {
    private final byte[] body;

    Buffered(HttpServletRequest req, byte[] body) {
      super(req);
      this.body = body;
    }

    @Override
    public int getContentLength() {
      return body.length;
    }

    @Override
    public long getContentLengthLong() {
      return body.length;
    }

    @Override
    public ServletInputStream getInputStream() {
      ByteArrayInputStream in = new ByteArrayInputStream(body);
      return new ServletInputStream() {
        @Override
        public int read() {
          return in.read();
        }

        @Override
        public int read(byte[] b, int off, int len) {
          return in.read(b, off, len);
        }

        @Override
        public boolean isFinished() {
          return in.available() == 0;
        }

        @Override
        public boolean isReady() {
          return true;
        }

        @Override
        public void setReadListener(ReadListener listener) {
          throw new UnsupportedOperationException("synchronous reads only");
        }
      };
    }
  }
}
