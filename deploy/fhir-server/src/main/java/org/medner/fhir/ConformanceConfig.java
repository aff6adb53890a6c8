package org.medner.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.jpa.validation.JpaValidationSupportChain;
import ca.uhn.fhir.rest.server.interceptor.RequestValidatingInterceptor;
import ca.uhn.fhir.validation.IInstanceValidatorModule;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * What the validator knows, and whether writes are validated (issue 17):
 *
 * FHIR_SERVER_PACKAGES: unpacked npm FHIR packages, separated by ',' (medner stack passes
 *   node_modules/hl7.terminology.r4 and node_modules/hl7.fhir.uv.extensions.r4).
 * FHIR_SERVER_CONFORMANCE_DIRS: folders of JSON conformance resources, separated by ','
 *   (medner stack passes the output of `medner conformance`).
 * FHIR_SERVER_VALIDATE=true: every create, update and transaction is validated before it is stored
 *   (HAPI's RequestValidatingInterceptor); an error rejects it with 422 and the OperationOutcome.
 *
 * Both $validate and the write check use HAPI's instance validator with unknown extensions as
 * errors: an extension needs a StructureDefinition (R4 core, the extensions pack, or ours).
 */
@Configuration
public class ConformanceConfig {
  private static final Logger log = LoggerFactory.getLogger(ConformanceConfig.class);

  /** Validation settings and what was loaded, for the REST server's configuration and CapabilityStatement. */
  public record Validation(boolean validateWrites, List<String> sources, RequestValidatingInterceptor interceptor) {}

  @Bean
  public Validation validation(FhirContext ctx, JpaValidationSupportChain chain, IInstanceValidatorModule instanceValidator) throws IOException {
    long t0 = System.nanoTime();
    PackageValidationSupport packages = new PackageValidationSupport(ctx);
    for (String dir : list("FHIR_SERVER_CONFORMANCE_DIRS")) packages.addFolder(Path.of(dir), "conformance:" + Path.of(dir).getFileName());
    for (String dir : list("FHIR_SERVER_PACKAGES")) packages.addPackage(Path.of(dir));
    if (packages.size() > 0) {
      chain.addValidationSupport(0, packages);
      packages.setRoot(chain);
      chain.invalidateCaches();
    }
    if (instanceValidator instanceof FhirInstanceValidator v) {
      // An extension the validator cannot resolve is an error, not a pass (HAPI's default allows any).
      v.setAnyExtensionsAllowed(false);
    }
    boolean validateWrites = "true".equalsIgnoreCase(env("FHIR_SERVER_VALIDATE"));
    RequestValidatingInterceptor interceptor = null;
    if (validateWrites) {
      interceptor = new RequestValidatingInterceptor();
      interceptor.addValidatorModule(instanceValidator);
      interceptor.setFailOnSeverity(ResultSeverityEnum.ERROR);
      interceptor.setAddResponseHeaderOnSeverity(null);
      interceptor.setAddValidationResultsToResponseOperationOutcome(false);
    }
    log.info("validation: {} resources from {} indexed in {} ms; writes validated: {}", packages.size(), packages.sources(),
        (System.nanoTime() - t0) / 1_000_000, validateWrites);
    return new Validation(validateWrites, packages.sources(), interceptor);
  }

  private static List<String> list(String key) throws IOException {
    List<String> out = new ArrayList<>();
    String v = env(key);
    if (v == null) return out;
    for (String part : v.split(",")) {
      String p = part.trim();
      if (p.isEmpty()) continue;
      if (!Files.isDirectory(Path.of(p))) throw new IOException(key + ": " + p + " is not a folder");
      out.add(p);
    }
    return out;
  }

  private static String env(String key) {
    String v = System.getenv(key);
    return v == null || v.isBlank() ? null : v.trim();
  }
}
