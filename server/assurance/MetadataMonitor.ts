/**
 * Keeps the FIDO metadata current and acts on what it reports (issue: authenticator assurance,
 * "afterwards"): a model reported compromised has its keys taken out of use; a model whose
 * certification drops has its keys re-rated. Loads come from the configured file (air-gapped
 * sites) and/or URL; a BLOB that does not verify leaves the previous one in force.
 */
import fs from 'node:fs';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { CoreDeps } from '../flows/deps.js';
import { takeModelOutOfUse } from '../flows/keys/takeModelOutOfUse.js';
import type { Logger } from '../logger.js';
import type { Store } from '../ports/store.js';
import type { AssuranceService } from './AssuranceService.js';
import { minLevel } from './levels.js';
import { MetadataStore, type MdsLoadResult } from './mds/index.js';

export class MetadataMonitor {
  readonly metadata: MetadataStore;
  private timer: NodeJS.Timeout | undefined;
  /** Called after a reload put a new BLOB in force (the runtime tells sibling workers). */
  onReloaded: (() => void) | undefined;

  constructor(
    private readonly ports: { config: Readonly<Config>; clock: Clock; log: Logger; store: Store },
    rootDer: Uint8Array,
  ) {
    this.metadata = new MetadataStore({ roots: [rootDer], clock: ports.clock });
  }

  static fromConfig(ports: { config: Readonly<Config>; clock: Clock; log: Logger; store: Store }): MetadataMonitor | undefined {
    const rootFile = ports.config.mds.rootFile;
    if (!rootFile) return undefined;
    return new MetadataMonitor(ports, new Uint8Array(fs.readFileSync(rootFile)));
  }

  /** Loads from the configured sources; returns what happened to each. Audited. */
  async reload(): Promise<MdsLoadResult[]> {
    const { config, store, clock, log } = this.ports;
    const results: MdsLoadResult[] = [];
    if (config.mds.blobFile) results.push(await this.metadata.loadFromFile(config.mds.blobFile));
    if (config.mds.url) results.push(await this.metadata.loadFromUrl(config.mds.url));
    for (const r of results) {
      await store.write((tx) =>
        tx.audit.append({
          at: clock.now().toISOString(),
          type: r.replaced ? 'metadata.loaded' : 'metadata.refused',
          actorId: null,
          actorRole: 'system',
          subjectId: null,
          data: r.replaced ? { source: r.source, number: r.number, nextUpdate: r.nextUpdate.toISOString() } : { source: r.source, code: r.code, message: r.message.slice(0, 300) },
        }),
      );
      if (!r.replaced) log.warn({ source: r.source, errorCode: r.code }, 'FIDO metadata refused; the previous BLOB stays in force');
    }
    if (results.some((r) => r.replaced)) this.onReloaded?.();
    return results;
  }

  /**
   * Loads the same sources into memory only: no audit event, no action on keys. For a worker
   * whose sibling (or the primary at start) already made the audited reload and acted on it.
   */
  async refresh(): Promise<void> {
    const { config, log } = this.ports;
    const results: MdsLoadResult[] = [];
    if (config.mds.blobFile) results.push(await this.metadata.loadFromFile(config.mds.blobFile));
    if (config.mds.url) results.push(await this.metadata.loadFromUrl(config.mds.url));
    for (const r of results) if (!r.replaced) log.warn({ source: r.source, errorCode: r.code }, 'FIDO metadata refused on refresh; the previous BLOB stays in force');
  }

  /**
   * Acts on the current metadata: compromised models out of use; keys re-rated when their model's
   * certification no longer supports their level. Idempotent: only live keys are touched.
   */
  async apply(core: CoreDeps, assurance: AssuranceService): Promise<{ compromisedModels: string[]; reRated: number }> {
    const { store, clock } = this.ports;
    const compromisedModels: string[] = [];
    let reRated = 0;
    for (const entry of this.metadata.entries()) {
      const live = await store.read((tx) => tx.credentials.listLiveByAaguid(entry.aaguid));
      if (live.length === 0) continue;
      if (entry.compromised) {
        if (live.some((k) => k.state === 'active' || k.state === 'issued')) {
          await takeModelOutOfUse(core, entry.aaguid, entry.latestStatus ?? 'compromised');
          compromisedModels.push(entry.aaguid);
        }
        continue;
      }
      for (const key of live) {
        const assessment = assurance.reassess(key);
        if (assessment.decision.refused || key.aal === null) continue;
        const level = assessment.decision.level;
        if (minLevel(level, key.aal) === level && level !== key.aal) {
          await store.write(async (tx) => {
            await tx.credentials.setAssurance(key.id, { aal: level, model: assessment.model ?? key.model, certification: assessment.evidence.certification, reasons: assessment.decision.reasons }, clock.now().toISOString());
            await tx.audit.append({
              at: clock.now().toISOString(),
              type: 'credential.re-rated',
              actorId: null,
              actorRole: 'system',
              subjectId: key.id,
              data: { from: key.aal, to: level, certification: assessment.evidence.certification, aaguid: key.aaguid },
            });
          });
          reRated++;
        }
      }
    }
    return { compromisedModels, reRated };
  }

  start(core: CoreDeps, assurance: AssuranceService, intervalMs = 6 * 3600_000): void {
    this.timer ??= setInterval(() => {
      this.reload()
        .then(() => this.apply(core, assurance))
        .catch((err: unknown) => this.ports.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'metadata refresh failed'));
    }, intervalMs);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
