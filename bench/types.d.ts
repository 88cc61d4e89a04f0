/**
 * The shapes the bench's phases return and its renderers read, for `// @ts-check` files
 * (checked by `npm run typecheck`).
 */

/** One autocannon run as bench/load-child.js and bench/scripted-load-child.js report it. */
export interface LoadResult {
  connections: number;
  duration: number;
  total: number;
  rps: number;
  latency: { p50: number; p90: number; p99: number; max: number; mean: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodeStats: Record<string, { count: number }>;
  /** With LoadOptions.keepAnswers: each 2xx answer's time (ms) and when it came (ms from the start). */
  answers?: { startedAt: number; ms: number[]; at: number[] };
  /** bench/scripted-load-child.js only: answers that passed or failed the script's check. */
  script?: { ok: number; bad: number; starved?: number; firstBad?: string | null; poolBefore?: number; poolAfter?: number };
}

/** Autocannon options the load generators take (url, method, headers, body, connections, duration in s). */
export interface LoadOptions {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  connections?: number;
  duration?: number;
  /** bench/scripted-load-child.js: this many requests, whatever the time (instead of `duration`): a pool's whole stock, sent once each. */
  amount?: number;
  /** bench/load-child.js: the result carries every answer's time (bench/tail-bursts.js). */
  keepAnswers?: boolean;
  /** bench/load-child.js: each request takes the next Authorization header and X-Forwarded-For address. */
  rotate?: { authorizations: string[]; forwardedFor: string[] };
  /** bench/scripted-load-child.js's refresh script: the public client. */
  clientId?: string;
}

/** A server the bench loads: where it is, its process, and the client it registered. */
export interface BenchTarget {
  name: string;
  url: string;
  pid: number | undefined;
  clientId: string;
  clientSecret: string;
  resource: string;
  scope: string;
  /** Grantor started with `clients: n`: every client_credentials client (the first is clientId/clientSecret). */
  credentials?: Array<{ clientId: string; clientSecret: string }>;
  logs?: () => string;
  stop(): Promise<void>;
}

/** A Grantor child process (bench/grantor-server.js). */
export type GrantorServer = Awaited<ReturnType<typeof import('./grantor-server.js').startGrantor>>;

/** bench/load.js's child process. */
export interface LoadGenerator {
  pid: number | undefined;
  run(opts: LoadOptions): Promise<LoadResult>;
}

/** bench/scripted-load.js's child process. */
export interface ScriptedLoadGenerator {
  pid: number | undefined;
  setPool(tokens: string[]): Promise<unknown>;
  peekPool(): Promise<{ pool: number; sample?: string }>;
  run(script: 'refresh' | 'introspect' | 'dpop' | 'code', opts: LoadOptions): Promise<LoadResult>;
}

/** bench/revocation-propagation.js measureRevocationPropagation's options (ms unless named otherwise). */
export interface RevocationPropagationOptions {
  /** A Grantor started with STATUS_LIST_TTL=ttl. */
  grantor: GrantorServer;
  /** Its status list's ttl, s. */
  ttl: number;
  /** How many grants are revoked and measured. */
  grants: number;
  /** The random gap before each revocation, from [0] to [1]. Default [20, 300]. */
  gapMs?: [number, number];
  /** The status-list verifier's poll of each revoked token (and its steady traffic). Default 20. */
  pollMs?: number;
  /** The subscribed verifier's poll of each revoked token. Default 1. */
  streamPollMs?: number;
  /** A poller gives up (timedOut) after this long. Default 10 000. */
  boundMs?: number;
  log?: (msg: string) => void;
}

/** How one revoked token's poller ended: refused as revoked, refused for another reason (`error`), or at the bound. */
export interface PropagationPoll {
  /** From the revocation's answer to the refusal (or to the bound). */
  ms: number;
  polls: number;
  error?: string;
  timedOut?: boolean;
}

/** The pollers of one verifier, summed up (quantiles over every grant, a timed-out one counted at the bound). */
export interface PropagationSummary {
  refused: number;
  errors: string[];
  timedOut: number;
  p50Ms: number | undefined;
  p90Ms: number | undefined;
  p99Ms: number | undefined;
  maxMs: number | undefined;
  minMs: number | undefined;
}

/** The idle verifier: list fetched, idle past its ttl, grant revoked, `afterSeconds` more of idleness, then two verifies. */
export interface IdleProbe {
  afterSeconds: number;
  /** 'accepted', 'refused (revoked)' or 'refused: <message>'. */
  firstVerify: string;
  secondVerify: string;
}

/** bench/revocation-propagation.js measureRevocationPropagation's result: the status list's figures, and the stream's. */
export interface RevocationPropagationResult extends PropagationSummary {
  ttl: number;
  grants: number;
  gapMs: [number, number];
  pollMs: number;
  boundMs: number;
  setupSeconds: number;
  revokeRequestP50Ms: number | undefined;
  revokeRequestMaxMs: number | undefined;
  /** The steady traffic on the status-list verifier (a live token every pollMs). */
  traffic: { verifies: number; errors: number; firstError: string | undefined };
  idleProbe: IdleProbe;
  /** The verifier subscribed to the revocation events, on the same revocations. */
  stream: PropagationSummary & {
    delivery: 'poll';
    pollMs: number;
    channel: import('../src/resource-server/index.js').RevocationState['channel'];
    lastError: string | undefined;
    logLines: number;
  };
}

/** The CPU figures of one measured run, in % of one core (bench/procs.js cpuMeter). */
export interface RunCpu {
  serverPctOfOneCore?: number;
  /** The server's main thread alone (its event loop). */
  serverLoopPctOfOneCore?: number;
  serverMsPerRequest?: number;
  loadgenPctOfOneCore?: number;
  machineBusyPct?: number;
  othersPctOfOneCore?: number;
}

/** One measured load run (bench/load-runs.js): autocannon's figures and the CPU spent meanwhile. */
export interface MeasuredRun {
  connections: number;
  seconds: number;
  requests: number;
  rps: number;
  latencyMs: LoadResult['latency'];
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodeStats: LoadResult['statusCodeStats'];
  script?: LoadResult['script'];
  cpu: RunCpu;
  /** A run made with LoadOptions.keepAnswers: where its p99 comes from (bench/tail.js). */
  tail?: TailStructure;
}

/** bench/tail.js: a run's answers over the p99, by when their request was sent. */
export interface TailStructure {
  p50: number;
  p99: number;
  spread: number;
  /** How many answers are at or over the p99. */
  over: number;
  /** Their share sent in the run's first 300 ms. */
  atStart: number;
  /** Their share in 100 ms windows holding at least half as many as there are connections. */
  inBursts: number;
  /** p99 / p50 of the requests sent after the first 300 ms. */
  steadySpread: number;
  /** After the first 300 ms, the p99 of each answer's time over the median of its 250 ms window. */
  windowSpread: number;
  /** Where those windows begin, ms from the start of the run. */
  bursts: number[];
}

/** A run of bench/scripted-load-child.js: its answers checked by the script. */
export interface ScriptedRun extends MeasuredRun {
  script: NonNullable<LoadResult['script']>;
}

/** Measured runs on one pair of load generators (bench/load-runs.js loadTools). */
export interface LoadTools {
  loader: LoadGenerator;
  scripted: ScriptedLoadGenerator;
  log: (msg: string) => void;
  load(target: BenchTarget, label: string, req: LoadOptions, connections: number, seconds: number): Promise<MeasuredRun>;
  scriptedLoad(target: BenchTarget, label: string, script: 'refresh' | 'introspect' | 'code', opts: LoadOptions, connections: number, seconds: number): Promise<ScriptedRun>;
  warmUp(target: BenchTarget, req: LoadOptions): Promise<void>;
}

/** The access token of one checked token request (bench/load-runs.js verifyIssuance). */
export interface IssuedSample {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  tokenBytes: number;
}

/** `npm run bench`'s settings (bench/config.js: each one's env variable and defaults). */
export interface BenchConfig {
  smoke: boolean;
  seconds: number;
  signSeconds: number;
  warmupSeconds: number;
  settleMs: number;
  connections: number[];
  oidcConnections: number[];
  onlyGrantor: boolean;
  cpuProfDir: string | undefined;
  refConnections: number;
  refreshConnections: number[];
  warmupConnections: number;
  refreshSeed: number;
  introspectConnections: number;
  verifyRounds: number;
  verifyIterations: number;
  dpopConnections: number[];
  dpopRounds: number;
  registrationConnections: number;
  metadataDocumentConnections: number;
  revokeGrants: number;
  revokeTtl: number;
  propagationBoundMs: number;
  ssfReceivers: number[];
  ssfRevocations: number;
  ssfIdleSeconds: number;
  edgeRounds: number;
  /** Seconds of each of 2b's measured runs. */
  edgeSeconds: number;
  timingTries: number;
  timingWarmup: number;
  scaleOutConnections: number;
  scaleOutRefreshSeed: number;
  concurrent: boolean;
}

/** The machine the bench ran on. */
export interface BenchEnvironment {
  node: string;
  platform: string;
  cpu: string | undefined;
  cores: number;
  loadavg: Array<number | null>;
}

type Result<F extends (...args: any) => any> = Awaited<ReturnType<F>>;

/** Every phase's result: what bench/render.js turns into the printout and BENCH_JSON. */
export interface BenchResults {
  config: BenchConfig;
  env: BenchEnvironment;
  startedAt: number;
  /** 1: null with BENCH_ONLY=grantor. */
  signing: Result<typeof import('./phases/signing.js').measureSigning> | null;
  /** 2: client_credentials issuance, the bare signer beside it. */
  issuance: Result<typeof import('./phases/issuance.js').measureIssuance>;
  /** 1, again after 2: null with BENCH_ONLY=grantor. */
  signingAfter: Result<typeof import('./phases/signing.js').measureSigningAgain> | null;
  /** 3: the well-known documents and the status list. */
  documents: Result<typeof import('./phases/documents.js').measureDocuments>;
  /** 2b: what the access log and the rate limiter cost. */
  edgeCosts: Result<typeof import('./edge-costs.js').measureEdgeCosts>;
  /** 4–6b: refresh, introspection, the resource-server module, client authentication timing. */
  delegated: Result<typeof import('./phases/delegated-access.js').measureDelegatedAccess>;
  /** 7: revocation propagation (status list and stream). */
  revocation: Result<typeof import('./phases/revocation.js').measureRevocation>;
  /** 7d: a stream's cost per revocation. */
  streamCost: Result<typeof import('./ssf-cost.js').measureStreamCost>;
  /** 7b: DPoP. */
  dpop: Result<typeof import('./dpop.js').measureDpop>;
  /** 7c: dynamic client registration. */
  registration: Result<typeof import('./phases/registration.js').measureRegistration>;
  /** 7e: Client ID Metadata Documents. */
  metadataDocuments: Result<typeof import('./metadata-documents.js').measureMetadataDocuments>;
  /** 8: node-oidc-provider; null with BENCH_ONLY=grantor. */
  oidcProvider: Result<typeof import('./phases/oidc-provider.js').measureOidcProvider> | null;
  /** 9: scale-out. */
  scaleOut: Result<typeof import('./scale-out.js').measureScaleOut>;
}
