import Foundation
import DogeGeneration
import DogeModel
import DogeTokenizers

/// A generated token with its raw log-probability, for `logprobs` in responses.
public struct TokenLogprob: Sendable {
    public var token: String
    public var bytes: [UInt8]
    public var logprob: Float
    public var top: [(token: String, bytes: [UInt8], logprob: Float)]
}

/// What a running request hears from the engine.
public enum JobEvent: Sendable {
    /// New text of one choice (never part of a stop string), with the tokens behind it.
    case text(choice: Int, text: String, tokens: [TokenLogprob])
    /// A choice ended: "stop" (EOS or a stop string) or "length".
    case finished(choice: Int, reason: String, completionTokens: Int)
    case failed(String)
}

/// One request to generate: `configs.count` choices (n) of one prompt.
public final class GenerationJob: @unchecked Sendable {
    public let promptIds: [Int]
    public let configs: [GenerationConfig]
    /// nil: no logprobs; otherwise how many alternatives per token.
    public let topLogprobs: Int?
    public let events: AsyncStream<JobEvent>
    let continuation: AsyncStream<JobEvent>.Continuation
    private let lock = NSLock()
    private var cancelledFlag = false
    /// Submitted when every slot was taken: it counts against the queue limit until admitted.
    var overflowed = false

    /// False once the client's connection is gone (checked by the engine before every step).
    let isConnected: @Sendable () -> Bool

    public init(promptIds: [Int], configs: [GenerationConfig], topLogprobs: Int?,
                isConnected: @escaping @Sendable () -> Bool = { true }) {
        self.promptIds = promptIds
        self.configs = configs
        self.topLogprobs = topLogprobs
        self.isConnected = isConnected
        (events, continuation) = AsyncStream<JobEvent>.makeStream(bufferingPolicy: .unbounded)
        continuation.onTermination = { [weak self] _ in self?.cancel() }
    }

    /// The client went away or stopped listening: its slots are freed at the next step.
    public func cancel() { lock.withLock { cancelledFlag = true } }
    public var isCancelled: Bool { lock.withLock { cancelledFlag } }
}

/// Why a job was not accepted.
public enum EngineRejection: Error, Equatable {
    case queueFull(Int)
    case tooManyChoices(n: Int, slots: Int)
    case shuttingDown
}

/// Live figures for /metrics and the page.
public struct EngineStatus: Sendable {
    public var busySlots: Int
    public var queued: Int
    public var slots: Int
    /// Generated tokens per second over the last steps with work.
    public var tokensPerSecond: Double
    /// Batched decode steps run so far.
    public var steps: Int
}

/// The continuous-batching loop: one thread owns the `BatchDecoder`; requests wait in a bounded
/// queue, join between steps when enough slots are free, and leave as soon as they finish or
/// their client is gone.
public final class InferenceEngine: @unchecked Sendable {
    public let generator: TextGenerator
    public let slots: Int
    public let queueLimit: Int
    private let decoder: BatchDecoder
    private let condition = NSCondition()
    private var pending: [GenerationJob] = []
    /// Slots promised to submitted jobs (running or waiting), and the waiting jobs that did not fit.
    private var reserved = 0, overflow = 0
    private var stopping = false
    private var thread: Thread?
    private var status = EngineStatus(busySlots: 0, queued: 0, slots: 0, tokensPerSecond: 0, steps: 0)
    /// Called on the engine thread after each step with the tokens it produced.
    public var onStep: (@Sendable (_ tokens: Int, _ seconds: Double) -> Void)?

    // Engine-thread state.
    private struct Choice {
        let job: GenerationJob
        let index: Int
        var detokenizer: StreamingDetokenizer
        var stops: StopStringMatcher
        var pending: [TokenLogprob] = []
        var generated = 0
    }
    private var choices: [SequenceID: Choice] = [:]
    private var remaining: [ObjectIdentifier: Int] = [:]   // unfinished choices per job

    public init(generator: TextGenerator, slots: Int, queueLimit: Int) {
        self.generator = generator
        self.slots = slots
        self.queueLimit = queueLimit
        decoder = BatchDecoder(model: generator.model, capacity: slots)
        status.slots = slots
    }

    public func start() {
        let t = Thread { [self] in loop() }
        t.name = "doge-engine"
        t.stackSize = 8 << 20
        thread = t
        t.start()
    }

    /// Stops taking jobs; running ones finish. Returns when the loop has ended or `timeout` passed.
    public func shutdown(timeout: Double) {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if currentStatus.busySlots == 0 && currentStatus.queued == 0 { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    public var currentStatus: EngineStatus { condition.withLock { status } }

    /// Queues a job, or says why not (queue full → the client should retry).
    public func submit(_ job: GenerationJob) throws(EngineRejection) {
        guard job.configs.count <= slots else { throw .tooManyChoices(n: job.configs.count, slots: slots) }
        condition.lock()
        defer { condition.unlock() }
        if stopping { throw .shuttingDown }
        if reserved + job.configs.count > slots {
            guard overflow < queueLimit else { throw .queueFull(queueLimit) }
            overflow += 1
            job.overflowed = true
        }
        reserved += job.configs.count
        pending.append(job)
        status.queued = pending.count
        condition.signal()
    }

    private func loop() {
        var window: [(tokens: Int, seconds: Double)] = []
        while true {
            condition.lock()
            while pending.isEmpty && choices.isEmpty && !stopping { condition.wait() }
            if stopping && choices.isEmpty && pending.isEmpty { condition.unlock(); return }
            var admitted: [GenerationJob] = []
            var free = slots - decoder.count
            while let job = pending.first, free >= job.configs.count {
                pending.removeFirst()
                if job.overflowed { overflow -= 1; job.overflowed = false }
                if !job.isCancelled {
                    admitted.append(job)
                    free -= job.configs.count
                } else {
                    reserved -= job.configs.count
                    job.continuation.finish()
                }
            }
            status.queued = pending.count
            condition.unlock()

            for job in admitted { admit(job) }
            for (id, choice) in choices where choice.job.isCancelled || !choice.job.isConnected() { drop(id, choice.job) }
            if decoder.isEmpty { publish(window, stepped: false); continue }
            let start = DispatchTime.now().uptimeNanoseconds
            let produced: [DecodedToken]
            do { produced = try decoder.step() } catch {
                for (id, choice) in choices { choice.job.continuation.yield(.failed("\(error)")); drop(id, choice.job) }
                continue
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            for token in produced { handle(token) }
            window.append((produced.count, seconds))
            if window.count > 32 { window.removeFirst() }
            onStep?(produced.count, seconds)
            publish(window, stepped: true)
        }
    }

    private func publish(_ window: [(tokens: Int, seconds: Double)], stepped: Bool) {
        let tokens = window.reduce(0) { $0 + $1.tokens }, seconds = window.reduce(0) { $0 + $1.seconds }
        condition.withLock {
            status.busySlots = decoder.count
            status.tokensPerSecond = seconds > 0 ? Double(tokens) / seconds : 0
            if stepped { status.steps += 1 }
        }
    }

    private func admit(_ job: GenerationJob) {
        var added: [SequenceID] = []
        do {
            for (i, config) in job.configs.enumerated() {
                let id = try decoder.add(prompt: job.promptIds, config: config, logprobs: job.topLogprobs)
                added.append(id)
                choices[id] = Choice(job: job, index: i,
                                     detokenizer: StreamingDetokenizer(tokenizer: generator.tokenizer, skipSpecialTokens: true),
                                     stops: StopStringMatcher(config.stopStrings))
            }
            remaining[ObjectIdentifier(job)] = job.configs.count
        } catch {
            for id in added { decoder.remove(id); choices[id] = nil }
            release(job)
            job.continuation.yield(.failed("\(error)"))
            job.continuation.finish()
        }
    }

    /// Removes every sequence of a cancelled job.
    private func drop(_ id: SequenceID, _ job: GenerationJob) {
        decoder.remove(id)
        choices[id] = nil
        let key = ObjectIdentifier(job)
        if let left = remaining[key] {
            if left <= 1 { remaining[key] = nil; release(job); job.continuation.finish() } else { remaining[key] = left - 1 }
        }
    }

    /// A job is done: its slots are free for new submissions.
    private func release(_ job: GenerationJob) {
        condition.withLock { reserved -= job.configs.count }
    }

    private func logprobEntry(_ t: DecodedToken) -> TokenLogprob {
        func text(_ id: Int) -> (String, [UInt8]) {
            let s = (try? generator.tokenizer.decode([id])) ?? ""
            return (s, Array(s.utf8))
        }
        let (s, b) = text(t.token)
        return TokenLogprob(token: s, bytes: b, logprob: t.logprob ?? 0,
                            top: t.top.map { let (ts, tb) = text($0.token); return (ts, tb, $0.logprob) })
    }

    private func handle(_ t: DecodedToken) {
        guard var c = choices[t.sequence] else { return }
        c.generated += 1
        let isEOS = t.finish == .eos
        if c.job.topLogprobs != nil && !isEOS { c.pending.append(logprobEntry(t)) }
        var stopped = false
        if !isEOS {
            let piece = (try? c.detokenizer.push(t.token)) ?? ""
            let (emit, hit) = c.stops.feed(piece)
            stopped = hit
            if !emit.isEmpty || hit {
                c.job.continuation.yield(.text(choice: c.index, text: emit, tokens: c.pending))
                c.pending = []
            }
        }
        if stopped || t.finish != nil {
            if !stopped {
                let tail = c.stops.finish((try? c.detokenizer.finish()) ?? "")
                if !tail.isEmpty || !c.pending.isEmpty {
                    c.job.continuation.yield(.text(choice: c.index, text: tail, tokens: c.pending))
                }
            }
            let reason = t.finish == .length && !stopped ? "length" : "stop"
            // Free the slot before the client can see the end, so /health and /metrics never
            // report a finished request as busy.
            decoder.remove(t.sequence)
            condition.withLock { status.busySlots = decoder.count }
            c.job.continuation.yield(.finished(choice: c.index, reason: reason, completionTokens: c.generated))
            choices[t.sequence] = c
            drop(t.sequence, c.job)   // the decoder already removed finished sequences; stop strings end here
            return
        }
        choices[t.sequence] = c
    }
}
