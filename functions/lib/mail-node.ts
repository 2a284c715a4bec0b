/** The Node half of email alerts: nodemailer over SMTP, installed by the Node server. */
import { isIP } from 'node:net';
import nodemailer from 'nodemailer';
import type { Mailer } from './mail';

/**
 * One connection per message: alerts are few, and a pooled connection would outlive the
 * address check. The transport is built from the URL's parts only (nodemailer would also read
 * options such as a proxy from a URL's query; config.ts refuses a query anyway), and message
 * parts may not load files or URLs.
 */
export const sendWithNodemailer: Mailer = async (smtp, message, { timeoutMs }) => {
  const url = new URL(smtp.url);
  const secure = url.protocol === 'smtps:';
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const transport = nodemailer.createTransport({
    host: smtp.connectTo ?? hostname,
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    ...(!isIP(hostname) && { servername: hostname }),
    ...(url.username && {
      auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) },
    }),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  try {
    await transport.sendMail({
      from: message.from,
      to: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
    });
  } finally {
    transport.close();
  }
};
