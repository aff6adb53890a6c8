package org.medner.fhir;

import ca.uhn.fhir.jpa.model.dialect.HapiFhirH2Dialect;
import ca.uhn.fhir.jpa.model.dialect.HapiFhirPostgresDialect;
import java.nio.file.Path;

/**
 * Which database to use, from the environment:
 * FHIR_SERVER_DB = h2 (default) | postgres | a full JDBC URL (jdbc:postgresql:... or jdbc:h2:...).
 * FHIR_SERVER_DATA_DIR = directory of the H2 files (default ./data).
 * FHIR_SERVER_PG_HOST/PORT/DATABASE/USER/PASSWORD for postgres (defaults 127.0.0.1, 5432, medner_fhir, postgres, empty).
 */
record DatabaseSettings(String jdbcUrl, String user, String password, String dialect, String pgDatabase) {

  boolean isPostgres() {
    return jdbcUrl.startsWith("jdbc:postgresql:");
  }

  static DatabaseSettings fromEnv() {
    String db = env("FHIR_SERVER_DB", "h2");
    String user = env("FHIR_SERVER_DB_USER", null);
    String password = env("FHIR_SERVER_DB_PASSWORD", "");
    if (db.equals("postgres")) {
      String database = env("FHIR_SERVER_PG_DATABASE", "medner_fhir");
      String url = "jdbc:postgresql://" + env("FHIR_SERVER_PG_HOST", "127.0.0.1") + ":"
          + env("FHIR_SERVER_PG_PORT", "5432") + "/" + database;
      return new DatabaseSettings(url, user != null ? user : "postgres", password, HapiFhirPostgresDialect.class.getName(), database);
    }
    if (db.equals("h2")) {
      Path dir = Path.of(env("FHIR_SERVER_DATA_DIR", "data")).toAbsolutePath();
      return new DatabaseSettings("jdbc:h2:file:" + dir.resolve("medner-fhir"), user != null ? user : "sa", password,
          HapiFhirH2Dialect.class.getName(), null);
    }
    if (db.startsWith("jdbc:postgresql:")) {
      return new DatabaseSettings(db, user != null ? user : "postgres", password, HapiFhirPostgresDialect.class.getName(), null);
    }
    if (db.startsWith("jdbc:h2:")) {
      return new DatabaseSettings(db, user != null ? user : "sa", password, HapiFhirH2Dialect.class.getName(), null);
    }
    throw new IllegalArgumentException("FHIR_SERVER_DB must be h2, postgres or a jdbc:postgresql:/jdbc:h2: URL");
  }

  private static String env(String key, String fallback) {
    String v = System.getenv(key);
    return v == null || v.isBlank() ? fallback : v;
  }
}
