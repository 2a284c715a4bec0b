/**
 * Email for alerts, as both runtimes see it: the message and the sender's signature. The
 * sender itself (nodemailer over SMTP) is Node-only; the Node server installs it at start-up
 * (lib/mail-node.ts), the Worker installs none, so its bundle never imports nodemailer and
 * an email target there is skipped with a logged reason (docs/lifecycle-and-alerts.md).
 */

export interface MailMessage {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
}

export interface SmtpTarget {
  /** `smtp://user:pass@host:port` or `smtps://…` (SMTP_URL). */
  url: string;
  /**
   * The checked address to dial instead of resolving the host name again, so a second DNS
   * answer cannot lead elsewhere; the name is still used for TLS (SNI and the certificate).
   */
  connectTo?: string;
}

/** Sends one message; rejects with the SMTP or network error. */
export type Mailer = (
  smtp: SmtpTarget,
  message: MailMessage,
  options: { timeoutMs: number },
) => Promise<void>;

let installedMailer: Mailer | null = null;

/** Installs the sender used when a flush is given none; answers the previous one. */
export function setMailer(mailer: Mailer | null): Mailer | null {
  const previous = installedMailer;
  installedMailer = mailer;
  return previous;
}

export const mailer = () => installedMailer;

/** Why an email target is skipped where no sender is installed (the Worker). */
export const NO_MAILER = 'email is sent by the Node server only; this runtime has no SMTP client';
