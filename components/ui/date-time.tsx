"use client";

const RELATIVE_STEPS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["week", 7 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
];

/** "3 minutes ago", "just now", "in 2 days". */
export function formatRelative(date: Date, now: Date = new Date()): string {
  const seconds = Math.round((date.getTime() - now.getTime()) / 1000);
  if (Math.abs(seconds) < 45) return "just now";
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  for (const [unit, size] of RELATIVE_STEPS) {
    if (Math.abs(seconds) >= size) return format.format(Math.round(seconds / size), unit);
  }
  return format.format(Math.round(seconds / 60), "minute");
}

export function formatDateTime(date: Date): string {
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }).format(date);
}

/** A date as people read it, with the exact time for machines and on hover. Client-only (local time zone). */
export function DateTime({ iso, isRelativeShown = true }: { iso: string; isRelativeShown?: boolean }) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return <span>unknown</span>;
  return (
    <time dateTime={date.toISOString()} title={date.toISOString()}>
      {formatDateTime(date)}
      {isRelativeShown && <span className="relative">{formatRelative(date)}</span>}
    </time>
  );
}
