import Foundation
import DogeGeneration
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

/// How `doge serve` runs.
public struct ServerOptions: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Empty: no authentication.
    public var apiKeys: [String] = []
    /// Sequences decoding together (continuous-batching slots).
    public var parallel = 4
    /// Requests waiting for a slot before new ones get 503.
    public var queueLimit = 64
    /// The conversation database; nil keeps conversations in memory only.
    public var databasePath: String?
    public var webUI = true
    public var maxBodyBytes = 8 << 20
    /// The id /v1/models lists.
    public var modelID = "doge"
    /// How long shutdown waits for running streams.
    public var shutdownGraceSeconds = 10.0

    public init() {}
}

/// Per-request figures for the log line.
final class RequestStats: @unchecked Sendable {
    private let lock = NSLock()
    private var prompt = 0, generated = 0
    func add(prompt p: Int = 0, generated g: Int = 0) { lock.withLock { prompt += p; generated += g } }
    var tokens: (Int, Int) { lock.withLock { (prompt, generated) } }
}

public struct DogeRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let stats = RequestStats()
    /// The connection, so the engine can see a client leave without waiting for a failed write.
    let channel: (any Channel)?
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// The server: the inference engine, the conversation store, metrics and the routes over them.
public final class DogeServer: Sendable {
    public let options: ServerOptions
    public let engine: InferenceEngine
    public let store: ConversationStore
    let metrics: ServerMetrics
    let logger: Logger
    let created = Int(Date().timeIntervalSince1970)
    /// What completion requests are checked against (RequestDecoding.swift).
    let requestLimits: RequestLimits

    public init(generator: TextGenerator, options: ServerOptions, logger: Logger = Logger(label: "doge.serve")) throws {
        self.options = options
        self.logger = logger
        engine = InferenceEngine(generator: generator, slots: options.parallel, queueLimit: options.queueLimit)
        store = try ConversationStore(path: options.databasePath)
        metrics = ServerMetrics()
        requestLimits = RequestLimits(defaults: generator.defaults, slots: options.parallel, vocabSize: generator.model.config.vocabSize,
                                      maxPromptTokens: TokenGenerator(model: generator.model).maxPromptTokens,
                                      maxTokenBytes: generator.tokenizer.maxTokenBytes)
        let metrics = self.metrics
        engine.onStep = { tokens, seconds in metrics.step(tokens: tokens, seconds: seconds) }
        engine.start()
    }

    public var generator: TextGenerator { engine.generator }

    /// Log lines to stderr (once per process).
    public static func bootstrapLogging() {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
    }

    /// The router with every route and middleware.
    public func makeRouter() -> Router<DogeRequestContext> {
        let router = Router(context: DogeRequestContext.self)
        // Middleware binds at registration: before any route.
        router.addMiddleware {
            RequestLogMiddleware(logger: logger)
            CORSMiddleware(allowOrigin: .originBased,
                           allowHeaders: [.accept, .authorization, .contentType, .origin, HTTPField.Name("X-Api-Key")!],
                           allowMethods: [.get, .post, .put, .patch, .delete, .head, .options], maxAge: .seconds(600))
            OpenAIErrorMiddleware<DogeRequestContext>()
            APIKeyMiddleware<DogeRequestContext>(keys: Set(options.apiKeys))
        }
        addOpenAIRoutes(to: router)
        addUtilityRoutes(to: router)
        store.addRoutes(to: router, server: self)
        if options.webUI { addPageRoutes(to: router) }
        return router
    }

    public func makeApplication(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(router: makeRouter(),
                    configuration: .init(address: .hostname(options.host, port: options.port), serverName: "doge"),
                    onServerRunning: onServerRunning, logger: logger)
    }

    /// Serves until SIGINT/SIGTERM; then stops accepting, lets running streams finish (bounded), returns.
    public func run(onListening: @escaping @Sendable (String) -> Void = { _ in }) async throws {
        let app = makeApplication { channel in
            onListening(channel.localAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?")
        }
        var config = ServiceGroupConfiguration(services: [.init(service: EngineService(engine: engine, grace: options.shutdownGraceSeconds)),
                                                          .init(service: app)],
                                               gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        config.maximumGracefulShutdownDuration = .seconds(options.shutdownGraceSeconds)
        try await ServiceGroup(configuration: config).run()
    }
}

/// Keeps the engine's thread for the server's lifetime; on shutdown lets running jobs finish.
struct EngineService: Service {
    let engine: InferenceEngine
    let grace: Double
    func run() async throws {
        try await gracefulShutdown()
        engine.shutdown(timeout: grace)
    }
}

/// `--api-key`: Bearer or X-Api-Key on every route but /health and the page.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let keys: Set<String>
    static func isPublic(_ path: String) -> Bool { path == "/" || path == "/health" || path == "/v1/health" || path == "/favicon.ico" }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !keys.isEmpty, request.method != .options, !Self.isPublic(request.uri.path) else { return try await next(request, context) }
        var given = request.headers[HTTPField.Name("X-Api-Key")!]
        if let auth = request.headers[.authorization], auth.lowercased().hasPrefix("bearer ") {
            given = String(auth.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        }
        guard let given, keys.contains(given) else { throw APIError.unauthorized }
        return try await next(request, context)
    }
}

/// One log line per request: method, path, status, prompt/generated tokens, time. Streams log when
/// they end.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = DogeRequestContext
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        let stats = context.stats
        let method = request.method.rawValue, path = request.uri.path
        let logger = self.logger
        @Sendable func log(_ status: Int, _ note: String = "") {
            let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            let (p, g) = stats.tokens
            logger.info("\(method) \(path) \(status) prompt_tokens=\(p) generated_tokens=\(g) \(String(format: "%.1f", ms))ms\(note)")
        }
        do {
            var response = try await next(request, context)
            if response.headers[.contentType] == "text/event-stream" {
                let status = response.status.code
                let body = response.body
                response.body = ResponseBody { writer in
                    do { try await body.write(writer) } catch { log(status, " (client gone)"); throw error }
                    log(status)
                }
            } else {
                log(response.status.code)
            }
            return response
        } catch {
            log((error as? HTTPResponseError)?.status.code ?? 500)
            throw error
        }
    }
}

/// Prometheus counters and gauges for /metrics.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let requests: Counter, promptTokens: Counter, generatedTokens: Counter, rejected: Counter, steps: Counter
    let busySlots: Gauge, queued: Gauge, tokensPerSecond: Gauge, slots: Gauge

    init() {
        func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "doge", metricName: metric, unitName: unit, helpText: help)
        }
        requests = registry.makeCounter(descriptor: name("requests", "total", "Completion requests accepted"))
        rejected = registry.makeCounter(descriptor: name("requests_rejected", "total", "Requests refused because the queue was full"))
        promptTokens = registry.makeCounter(descriptor: name("prompt_tokens", "total", "Prompt tokens processed"))
        generatedTokens = registry.makeCounter(descriptor: name("generated_tokens", "total", "Tokens generated"))
        steps = registry.makeCounter(descriptor: name("decode_steps", "total", "Batched decode steps"))
        busySlots = registry.makeGauge(descriptor: name("busy_slots", "", "Sequences decoding now"))
        queued = registry.makeGauge(descriptor: name("queued_requests", "", "Requests waiting for a slot"))
        tokensPerSecond = registry.makeGauge(descriptor: name("tokens_per_second", "", "Generated tokens per second over the recent steps"))
        slots = registry.makeGauge(descriptor: name("slots", "", "Continuous-batching slots (--parallel)"))
    }

    func step(tokens: Int, seconds: Double) {
        steps.increment()
        generatedTokens.increment(by: Int64(tokens))
    }

    func render(_ status: EngineStatus) -> String {
        busySlots.set(Double(status.busySlots))
        queued.set(Double(status.queued))
        tokensPerSecond.set(status.tokensPerSecond)
        slots.set(Double(status.slots))
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
