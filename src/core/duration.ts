/** A session length for people: `3600` → `1 h`, `5400` → `1.5 h`. Pure. */
export function formatHours(seconds: number): string {
  return `${Math.round((seconds / 3600) * 10) / 10} h`;
}
