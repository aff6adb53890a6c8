package org.medner.fhir;

import ca.uhn.fhir.batch2.jobs.config.Batch2JobsConfig;
import ca.uhn.fhir.jpa.api.config.ThreadPoolFactoryConfig;
import ca.uhn.fhir.jpa.batch2.JpaBatch2Config;
import ca.uhn.fhir.jpa.config.r4.JpaR4Config;
import ca.uhn.fhir.jpa.subscription.channel.config.SubscriptionChannelConfig;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.autoconfigure.context.PropertyPlaceholderAutoConfiguration;
import org.springframework.boot.autoconfigure.web.embedded.EmbeddedWebServerFactoryCustomizerAutoConfiguration;
import org.springframework.boot.autoconfigure.web.servlet.ServletWebServerFactoryAutoConfiguration;
import org.springframework.context.annotation.Import;

/**
 * The medner local FHIR R4 server: HAPI FHIR JPA behind an embedded Tomcat at /fhir.
 *
 * Only the embedded web server is auto-configured; everything else (data source, JPA,
 * HAPI) is wired explicitly so that Boot's JPA/Flyway/Quartz/Elasticsearch
 * auto-configurations never fight HAPI's own.
 */
@SpringBootConfiguration
@ImportAutoConfiguration({
  PropertyPlaceholderAutoConfiguration.class,
  ServletWebServerFactoryAutoConfiguration.class,
  // applies server.tomcat.* (relaxed-query-chars) from application.properties
  EmbeddedWebServerFactoryCustomizerAutoConfiguration.class,
})
@Import({
  JpaR4Config.class,
  ThreadPoolFactoryConfig.class,
  // JpaConfig eagerly needs the batch2 job coordinator, which needs the channel (message broker) beans;
  // SubscriptionChannelConfig (in hapi-fhir-storage) provides them without the subscription module.
  JpaBatch2Config.class,
  Batch2JobsConfig.class,
  SubscriptionChannelConfig.class,
  DatabaseConfig.class,
  HapiJpaConfig.class,
  RestServerConfig.class,
  // validation packages and FHIR_SERVER_VALIDATE (issue 17)
  ConformanceConfig.class,
  // 413 for request bodies over FHIR_SERVER_MAX_REQUEST_BYTES (issue 20)
  RequestSizeLimit.class,
})
public class FhirServerApplication {
  public static void main(String[] args) {
    SpringApplication.run(FhirServerApplication.class, args);
  }
}
