/** Wording shared by the screens. */

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

export function formatPoints(points: number): string {
  return plural(points, 'point');
}

/** 7200 → "2 hours", 5400 → "1 hour 30 minutes". */
export function formatDuration(totalSeconds: number): string {
  const minutes = Math.round(totalSeconds / 60);
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours === 0) return plural(rest, 'minute');
  return rest === 0 ? plural(hours, 'hour') : `${plural(hours, 'hour')} ${plural(rest, 'minute')}`;
}

/** "in 45 seconds", "in about 5 minutes". */
export function formatIn(seconds: number): string {
  if (seconds < 60) return `in ${plural(Math.max(1, Math.ceil(seconds)), 'second')}`;
  return `in about ${plural(Math.ceil(seconds / 60), 'minute')}`;
}

/** A moment by the browser's clock (convert server times first), as the candidate's own clock shows it: "14:35". */
export function formatWallTime(epochMs: number): string {
  return new Date(epochMs).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export function percent(value: number): string {
  return `${Math.round(value * 10) / 10}%`;
}
