package org.medner.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.context.support.ValidationSupportContext;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.LenientErrorHandler;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.StructureDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Conformance resources from folders, for the validator: unpacked npm FHIR packages (hl7.terminology.r4,
 * hl7.fhir.uv.extensions.r4: the folder holding package.json, or its parent with package/) and folders of
 * JSON resources (medner's own StructureDefinitions/CodeSystems from `medner conformance --out DIR`).
 *
 * At start-up only the package's .index.json is read (medner stack writes it when unpacking; without one each
 * file is scanned for resourceType and url: 2-17 s for the 85 MB of the two packages on a loaded 2-core
 * machine); a resource is parsed when the validator first asks for its url, and kept.
 * A StructureDefinition without a snapshot gets one generated through the whole chain on first fetch.
 * Placed first in HAPI's validation chain (ConformanceConfig), so e.g. HL7 Terminology's
 * v3-ObservationValue (which has AIAST) wins over the older copy bundled with R4 core.
 * The first folder that defines a url wins.
 */
final class PackageValidationSupport implements IValidationSupport {
  private static final Logger log = LoggerFactory.getLogger(PackageValidationSupport.class);

  private final FhirContext ctx;
  /** resourceType -> url -> file */
  private final Map<String, Map<String, Path>> index = new HashMap<>();
  private final Map<Path, IBaseResource> parsed = new ConcurrentHashMap<>();
  private final List<String> sources = new ArrayList<>();
  private volatile IValidationSupport root;

  PackageValidationSupport(FhirContext ctx) {
    this.ctx = ctx;
  }

  /** The chain that generates missing snapshots (set once the chain holds this support). */
  void setRoot(IValidationSupport root) {
    this.root = root;
  }

  List<String> sources() {
    return List.copyOf(sources);
  }

  int size() {
    return index.values().stream().mapToInt(Map::size).sum();
  }

  /** An unpacked npm package (the folder with package.json, or one whose package/ has it). */
  void addPackage(Path dir) throws IOException {
    Path pkg = Files.isRegularFile(dir.resolve("package/package.json")) ? dir.resolve("package") : dir;
    Path manifest = pkg.resolve("package.json");
    if (!Files.isRegularFile(manifest)) throw new IOException("no package.json in " + dir);
    Map<String, String> m = topLevelStrings(manifest, "name", "version");
    int n = addFolder(pkg);
    String label = m.getOrDefault("name", dir.getFileName().toString()) + "#" + m.getOrDefault("version", "?");
    sources.add(label);
    log.info("validation package {}: {} resources indexed", label, n);
  }

  /** A folder of FHIR JSON resources. */
  void addFolder(Path dir, String label) throws IOException {
    int n = addFolder(dir);
    sources.add(label);
    log.info("validation resources {}: {} indexed", label, n);
  }

  private int addFolder(Path dir) throws IOException {
    Path packageIndex = dir.resolve(".index.json");
    if (Files.isRegularFile(packageIndex)) return addIndexed(dir, packageIndex);
    int n = 0;
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(p -> p.getFileName().toString().endsWith(".json") && Files.isRegularFile(p)).sorted().toList();
    }
    for (Path f : files) {
      String name = f.getFileName().toString();
      if (name.equals("package.json") || name.startsWith(".")) continue;
      Map<String, String> m = topLevelStrings(f, "resourceType", "url");
      String type = m.get("resourceType");
      String url = m.get("url");
      if (type == null || url == null) continue;
      if (index.computeIfAbsent(type, k -> new LinkedHashMap<>()).putIfAbsent(url, f) == null) n++;
    }
    return n;
  }

  /** A folder with the FHIR npm package index (.index.json: files[].filename/resourceType/url): no file is opened. */
  private int addIndexed(Path dir, Path indexFile) throws IOException {
    int n = 0;
    JsonNode files = new ObjectMapper().readTree(indexFile.toFile()).path("files");
    for (JsonNode f : files) {
      String type = f.path("resourceType").asText(null);
      String url = f.path("url").asText(null);
      String name = f.path("filename").asText(null);
      if (type == null || url == null || name == null || name.contains("/")) continue;
      if (index.computeIfAbsent(type, k -> new LinkedHashMap<>()).putIfAbsent(url, dir.resolve(name)) == null) n++;
    }
    return n;
  }

  /** The named top-level string properties of a JSON object, reading no further than needed. */
  private static Map<String, String> topLevelStrings(Path file, String... names) throws IOException {
    Map<String, String> out = new HashMap<>();
    JsonFactory f = new JsonFactory();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8); JsonParser p = f.createParser(r)) {
      if (p.nextToken() != JsonToken.START_OBJECT) return out;
      while (p.nextToken() == JsonToken.FIELD_NAME && out.size() < names.length) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        if (value == JsonToken.VALUE_STRING && List.of(names).contains(field)) out.put(field, p.getText());
        else p.skipChildren();
      }
    }
    return out;
  }

  /** Parsed once; a StructureDefinition without a snapshot gets one (generation may fetch other urls from here). */
  private IBaseResource load(Path file) {
    IBaseResource res = parsed.get(file);
    if (res != null) return res;
    IParser parser = ctx.newJsonParser().setParserErrorHandler(new LenientErrorHandler(false));
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      res = parser.parseResource(r);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + file, e);
    }
    if (res instanceof StructureDefinition sd && !sd.hasSnapshot() && root != null) {
      IBaseResource withSnapshot = root.generateSnapshot(new ValidationSupportContext(root), sd, sd.getUrl(), null, sd.getName());
      if (withSnapshot != null) res = withSnapshot;
    }
    IBaseResource raced = parsed.putIfAbsent(file, res);
    return raced != null ? raced : res;
  }

  private IBaseResource byUrl(String type, String url) {
    if (url == null) return null;
    int bar = url.indexOf('|');
    String bare = bar >= 0 ? url.substring(0, bar) : url;
    Map<String, Path> m = index.get(type);
    Path f = m == null ? null : m.get(bare);
    return f == null ? null : load(f);
  }

  @Override
  public FhirContext getFhirContext() {
    return ctx;
  }

  @Override
  public String getName() {
    return "medner packages " + sources;
  }

  @Override
  public IBaseResource fetchCodeSystem(String url) {
    return byUrl("CodeSystem", url);
  }

  @Override
  public IBaseResource fetchValueSet(String url) {
    return byUrl("ValueSet", url);
  }

  @Override
  public IBaseResource fetchStructureDefinition(String url) {
    return byUrl("StructureDefinition", url);
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T extends IBaseResource> T fetchResource(Class<T> type, String url) {
    if (type != null && type != IBaseResource.class) {
      String name = ctx.getResourceType(type);
      IBaseResource r = byUrl(name, url);
      return type.isInstance(r) ? (T) r : null;
    }
    for (String t : index.keySet()) {
      IBaseResource r = byUrl(t, url);
      if (r != null) return (T) r;
    }
    return null;
  }

  // fetchAll*: not offered (the defaults answer null). HAPI's terminology service calls
  // fetchAllConformanceResources on every cache invalidation, and parsing the packages' 4,000 resources
  // for it costs minutes on a small machine; the validator looks everything up by url.
}
