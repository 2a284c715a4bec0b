export const nowIso = () => new Date().toISOString();

/** Normalises any ISO 8601 string Date can read to the canonical UTC form used in storage. */
export function toIso(value: string | number | Date): string {
  return new Date(value).toISOString();
}
