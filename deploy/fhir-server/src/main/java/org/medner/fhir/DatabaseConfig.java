package org.medner.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.config.util.HapiEntityManagerFactoryUtil;
import com.zaxxer.hikari.HikariDataSource;
import jakarta.persistence.EntityManagerFactory;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean;
import org.springframework.transaction.annotation.EnableTransactionManagement;

/** Data source, Hibernate entity manager factory and transaction manager for HAPI. */
@Configuration
@EnableTransactionManagement
public class DatabaseConfig {
  private static final Logger log = LoggerFactory.getLogger(DatabaseConfig.class);

  @Bean
  public DatabaseSettings databaseSettings() {
    return DatabaseSettings.fromEnv();
  }

  @Bean(destroyMethod = "close")
  public HikariDataSource dataSource(DatabaseSettings db) throws SQLException {
    if (db.isPostgres() && db.pgDatabase() != null) createPostgresDatabaseIfAbsent(db);
    log.info("FHIR database: {}", db.jdbcUrl());
    HikariDataSource ds = new HikariDataSource();
    ds.setJdbcUrl(db.jdbcUrl());
    ds.setUsername(db.user());
    ds.setPassword(db.password());
    // Twice Tomcat's request threads (application.properties): a HAPI request can hold a second connection
    // (REQUIRES_NEW work), and a burst of writes should queue at Tomcat, not time out waiting for the pool.
    ds.setMaximumPoolSize(32);
    ds.setMinimumIdle(2);
    ds.setConnectionTimeout(120_000);
    ds.setPoolName("fhir");
    // Keep statement parameters (identifiers, which may be MRNs) out of error messages and so out of logs
    // and OperationOutcomes, e.g. on the unique-key conflict of two concurrent conditional creates.
    if (db.isPostgres()) ds.addDataSourceProperty("logServerErrorDetail", "false");
    // Hibernate's JDBC batches of index rows go to PostgreSQL as multi-row INSERTs (bench:fhir: about 12% less
    // PostgreSQL CPU per document), with the ordering below so a batch holds one table's rows.
    if (db.isPostgres()) ds.addDataSourceProperty("reWriteBatchedInserts", "true");
    return ds;
  }

  /** ANALYZE/VACUUM of our tables when the PostgreSQL server runs without autovacuum (see PostgresStatistics). */
  @Bean(destroyMethod = "close")
  public AutoCloseable postgresStatistics(HikariDataSource dataSource, DatabaseSettings db) throws SQLException {
    PostgresStatistics stats = db.isPostgres() ? PostgresStatistics.startIfAutovacuumOff(dataSource, 30) : null;
    return stats != null ? stats : () -> {};
  }

  // HAPI reads the dialect from this map itself (it fails when absent); Boot's spring.jpa.* do not apply here.
  @Primary
  @Bean
  public LocalContainerEntityManagerFactoryBean entityManagerFactory(
      DataSource dataSource, DatabaseSettings db, ConfigurableListableBeanFactory beanFactory,
      FhirContext fhirContext, JpaStorageSettings storageSettings) {
    LocalContainerEntityManagerFactoryBean emf =
        HapiEntityManagerFactoryUtil.newEntityManagerFactory(beanFactory, fhirContext, storageSettings);
    emf.setPersistenceUnitName("HAPI_PU");
    emf.setDataSource(dataSource);
    Properties p = new Properties();
    p.put("hibernate.dialect", db.dialect());
    p.put("hibernate.hbm2ddl.auto", "update");
    p.put("hibernate.search.enabled", "false");
    p.put("hibernate.jdbc.batch_size", "20");
    p.put("hibernate.order_inserts", "true");
    p.put("hibernate.order_updates", "true");
    p.put("hibernate.cache.use_query_cache", "false");
    p.put("hibernate.cache.use_second_level_cache", "false");
    p.put("hibernate.cache.use_structured_entries", "false");
    p.put("hibernate.cache.use_minimal_puts", "false");
    p.put("hibernate.format_sql", "false");
    p.put("hibernate.show_sql", "false");
    emf.setJpaProperties(p);
    return emf;
  }

  // HAPI's repositories look the transaction manager up by Spring Data's default name.
  @Primary
  @Bean
  public JpaTransactionManager transactionManager(EntityManagerFactory entityManagerFactory) {
    return new JpaTransactionManager(entityManagerFactory);
  }

  /** PostgreSQL has no CREATE DATABASE IF NOT EXISTS: look in pg_database first (via the maintenance db). */
  private static void createPostgresDatabaseIfAbsent(DatabaseSettings db) throws SQLException {
    String name = db.pgDatabase();
    if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) throw new IllegalArgumentException("bad database name: " + name);
    String adminUrl = db.jdbcUrl().substring(0, db.jdbcUrl().lastIndexOf('/') + 1) + "postgres";
    try (Connection c = DriverManager.getConnection(adminUrl, db.user(), db.password());
        PreparedStatement q = c.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
      q.setString(1, name);
      try (ResultSet rs = q.executeQuery()) {
        if (rs.next()) return;
      }
      try (Statement s = c.createStatement()) {
        s.execute("CREATE DATABASE " + name);
        log.info("created PostgreSQL database {}", name);
      }
    }
  }
}
