package org.medner.fhir;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stands in for autovacuum when the PostgreSQL server has it off (as on CI-style machines):
 * without ANALYZE the planner never learns the HAPI tables' sizes, and e.g. the conditional
 * update by _tag then walks every Provenance row (7 ms at 650 rows, growing with the table).
 * Every interval it applies autovacuum's default thresholds to our database's tables:
 * ANALYZE after 50 + 10% changed rows, VACUUM after 50 + 20% dead rows.
 */
final class PostgresStatistics implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PostgresStatistics.class);
  private static final String DUE =
      "SELECT relname, n_dead_tup > 50 + 0.2 * n_live_tup AS vacuum, n_mod_since_analyze > 50 + 0.1 * n_live_tup AS analyze"
          + " FROM pg_stat_user_tables WHERE schemaname = current_schema()"
          + " AND (n_dead_tup > 50 + 0.2 * n_live_tup OR n_mod_since_analyze > 50 + 0.1 * n_live_tup)";

  private final DataSource dataSource;
  private final ScheduledExecutorService timer;

  private PostgresStatistics(DataSource dataSource, long intervalSeconds) {
    this.dataSource = dataSource;
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "pg-statistics");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleWithFixedDelay(this::runOnce, 0, intervalSeconds, TimeUnit.SECONDS);
  }

  /** Starts the stand-in when the server's autovacuum is off; otherwise returns null (nothing to do). */
  static PostgresStatistics startIfAutovacuumOff(DataSource dataSource, long intervalSeconds) throws SQLException {
    try (Connection c = dataSource.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW autovacuum")) {
      if (rs.next() && "on".equalsIgnoreCase(rs.getString(1))) return null;
    }
    log.info("PostgreSQL autovacuum is off: analyzing/vacuuming the FHIR tables every {} s instead", intervalSeconds);
    return new PostgresStatistics(dataSource, intervalSeconds);
  }

  private void runOnce() {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(true); // VACUUM cannot run inside a transaction block
      List<String> commands = new ArrayList<>();
      try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(DUE)) {
        while (rs.next()) {
          String table = "\"" + rs.getString(1).replace("\"", "\"\"") + "\"";
          commands.add(rs.getBoolean(2) ? "VACUUM (ANALYZE) " + table : "ANALYZE " + table);
        }
      }
      try (Statement s = c.createStatement()) {
        for (String command : commands) s.execute(command);
      }
      if (!commands.isEmpty()) log.debug("statistics refreshed on {} tables", commands.size());
    } catch (SQLException | RuntimeException e) {
      log.warn("refreshing PostgreSQL statistics failed: {}", e.getClass().getSimpleName());
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
