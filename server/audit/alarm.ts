/**
 * The checkpointer's alarm (NSIS 4.1.6 (Low) 4: respond to security incidents; NSIS 6 (Low) 7):
 * when the audit trail in the database no longer extends the last signed checkpoint, the
 * gateway signs nothing further and tells people: an error in the log, the metrics
 * (gateway_audit_checkpoint_refusals_total, gateway_audit_integrity_alarm) and a mail through the
 * outbox to every security officer (in their language: alarmMail.ts), with an audit event. The log line and the metric come with
 * every refusal; the mail and the audit event once per distinct finding.
 */
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { queueMail } from '../flows/shared/mail.js';
import type { MailContext } from '../lifecycle/mails.js';
import { auditAlarmMail } from './alarmMail.js';
import type { Store } from '../ports/store.js';

export type AlarmReason =
  /** The witness holds checkpoints the database lacks: removed, or an older copy restored. */
  | 'checkpoints-removed'
  /** The database's checkpoint differs from the one the witness holds. */
  | 'checkpoint-replaced'
  /** The entries after the last checkpoint do not lead from it to the head (edited, removed, re-chained). */
  | 'chain-rewritten'
  /** A checkpoint in the database that is not witnessed yet does not verify. */
  | 'unverifiable-checkpoint'
  /** The witness refused the new checkpoint: it holds another one with the same number. */
  | 'witness-conflict';

export const ALARM_REASONS: readonly AlarmReason[] = ['checkpoints-removed', 'checkpoint-replaced', 'chain-rewritten', 'unverifiable-checkpoint', 'witness-conflict'];

export interface AuditAlarm {
  reason: AlarmReason;
  detail: string;
}

export interface AuditAlarmPorts {
  store: Store;
  clock: Clock;
  log: Logger;
  /** The zone of the mail's times and the organisation's language (each officer's own comes first). */
  mail: MailContext;
  /** Every refusal, with its reason (metrics). */
  onRefusal?: (reason: AlarmReason) => void;
  /** Whether an alarm stands (metrics gauge). */
  onState?: (raised: boolean) => void;
  /** Asks the outbox to deliver now. */
  kickOutbox?: () => void;
}

export class AuditAlarms {
  private current: AuditAlarm | undefined;
  private readonly told = new Set<string>();

  constructor(private readonly ports: AuditAlarmPorts) {}

  get active(): AuditAlarm | undefined {
    return this.current;
  }

  async raise(alarm: AuditAlarm): Promise<void> {
    const { store, clock, log } = this.ports;
    this.current = alarm;
    this.ports.onState?.(true);
    this.ports.onRefusal?.(alarm.reason);
    log.error({ alarm: alarm.reason, detail: alarm.detail }, 'AUDIT ALARM: the checkpointer refuses to sign the audit chain head');
    const key = `${alarm.reason}\n${alarm.detail}`;
    if (this.told.has(key)) return;
    this.told.add(key);
    const at = clock.now().toISOString();
    try {
      await store.write(async (tx) => {
        await tx.audit.append({
          at,
          type: 'audit.checkpoint-refused',
          actorId: null,
          actorRole: 'system',
          subjectId: null,
          data: { reason: alarm.reason, detail: alarm.detail, clause: 'NSIS 6 (Low) 7, 4.1.6 (Low) 4' },
        });
        for (const officer of await tx.identities.listActiveWithRole('security-officer')) {
          await queueMail(tx, auditAlarmMail(officer, alarm, at, this.ports.mail), at);
        }
      });
      this.ports.kickOutbox?.();
    } catch (err) {
      // The alarm still stands in the log and the metrics.
      log.error({ err: err instanceof Error ? err.message : String(err) }, 'the audit alarm could not be recorded or mailed');
    }
  }

  /** A checkpoint was signed: the chain extends the last one again. */
  clear(): void {
    if (!this.current) return;
    this.current = undefined;
    this.ports.onState?.(false);
  }
}
