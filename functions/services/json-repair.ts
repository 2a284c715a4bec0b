/**
 * The only escapes a shell-built payload really contains: the guide's step turns quotes
 * into `\"` and newlines into `\n` (sed) and leaves every other backslash of the log as
 * it was. So once a body needed repair, `\r`, `\t`, `\b`, `\\`... are taken literally
 * (`C:\Users\runner` stays a path). `\n` stays ambiguous (`D:\node_modules` reads as a
 * newline); the shipped jq-based script has no such ambiguity.
 */
const SHELL_ESCAPES = new Set(['"', 'n']);
const HEX4 = /^[0-9a-fA-F]{4}$/;

/**
 * Shell-built CI payloads (`sed 's/"/\\"/g'` over a build log) carry raw control characters
 * (tabs, ANSI ESC) and backslashes that are not JSON escapes (Windows paths, regexes).
 * This repairs exactly those two faults inside string literals and nothing else, so a
 * body that is not JSON for any other reason still fails to parse.
 * Returns null when there was nothing to repair.
 */
export function repairShellJson(text: string): string | null {
  let out = '';
  let inString = false;
  let changed = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (!inString) {
      if (ch === '"') inString = true;
      out += ch;
      continue;
    }
    if (ch === '"') {
      inString = false;
      out += ch;
      continue;
    }
    if (ch === '\\') {
      const next = text[i + 1];
      if (next !== undefined && SHELL_ESCAPES.has(next)) {
        out += ch + next;
        i++;
      } else if (next === 'u' && HEX4.test(text.slice(i + 2, i + 6))) {
        out += text.slice(i, i + 6);
        i += 5;
      } else {
        out += '\\\\';
        changed = true;
      }
      continue;
    }
    const code = ch.charCodeAt(0);
    if (code < 0x20) {
      changed = true;
      if (ch === '\n') out += '\\n';
      else if (ch === '\r') out += '\\r';
      else if (ch === '\t') out += '\\t';
      else out += `\\u${code.toString(16).padStart(4, '0')}`;
      continue;
    }
    out += ch;
  }
  return changed ? out : null;
}

/** How much of the parser's message a reason keeps: V8 quotes the body, which may be binary. */
const REASON_CHARS = 160;

/**
 * The parser's message as printable ASCII: every other UTF-16 unit becomes a `\uXXXX` escape
 * (a gzip body sent without its Content-Encoding is quoted as raw bytes), cut after
 * REASON_CHARS. Linear, and only over the message, never the body.
 */
export function printableReason(message: string): string {
  let out = '';
  for (let i = 0; i < message.length; i++) {
    if (out.length >= REASON_CHARS) return `${out}...`;
    const code = message.charCodeAt(i);
    out += code >= 0x20 && code <= 0x7e ? message[i] : `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return out;
}

export type LenientParse = { ok: true; value: unknown; repaired: boolean } | { ok: false; reason: string };

export function parseJsonLenient(text: string): LenientParse {
  try {
    return { ok: true, value: JSON.parse(text), repaired: false };
  } catch (error) {
    const repaired = repairShellJson(text);
    if (repaired !== null) {
      try {
        return { ok: true, value: JSON.parse(repaired), repaired: true };
      } catch {
        // fall through to the original parser message, which points at the real fault
      }
    }
    return {
      ok: false,
      reason: printableReason(error instanceof Error ? error.message : 'unparseable body'),
    };
  }
}
