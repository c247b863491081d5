import { effect, signal } from '@preact/signals';
import { isBoolean, isNumber, isString, readJson, writeJson } from './storage.js';

/**
 * The candidate's display preferences, remembered in this browser for every
 * session: theme, text size of the task panel and notes, the split between
 * task and terminal, and whether the notepad is open.
 */

export type Theme = 'light' | 'dark';

const isTheme = (v: unknown): v is Theme => isString(v) && (v === 'light' || v === 'dark');

function systemTheme(): Theme {
  return window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export const theme = signal<Theme>(readJson('cka.theme', isTheme) ?? systemTheme());

export function toggleTheme(): void {
  theme.value = theme.value === 'dark' ? 'light' : 'dark';
  writeJson('cka.theme', theme.value);
}

export const ZOOM_MIN = 0.8;
export const ZOOM_MAX = 1.8;
const ZOOM_STEP = 0.1;

const clampZoom = (z: number) =>
  Math.round(Math.min(ZOOM_MAX, Math.max(ZOOM_MIN, z)) / ZOOM_STEP) * ZOOM_STEP;

export const zoom = signal<number>(clampZoom(readJson('cka.zoom', isNumber) ?? 1));

export function changeZoom(direction: 1 | -1): void {
  zoom.value = clampZoom(zoom.value + direction * ZOOM_STEP);
  writeJson('cka.zoom', zoom.value);
}

export const SPLIT_MIN = 0.25;
export const SPLIT_MAX = 0.75;

const clampSplit = (ratio: number) => Math.min(SPLIT_MAX, Math.max(SPLIT_MIN, ratio));

/** The task panel's share of the width. */
export const split = signal<number>(clampSplit(readJson('cka.split', isNumber) ?? 0.5));

export function setSplit(ratio: number, remember: boolean): void {
  split.value = clampSplit(ratio);
  if (remember) writeJson('cka.split', split.value);
}

export const notepadOpen = signal<boolean>(readJson('cka.notepadOpen', isBoolean) ?? true);

export function toggleNotepad(): void {
  notepadOpen.value = !notepadOpen.value;
  writeJson('cka.notepadOpen', notepadOpen.value);
}

/** Applies theme and zoom to the document (CSSOM, which the Content-Security-Policy allows). */
export function applyPreferences(): () => void {
  return effect(() => {
    const root = document.documentElement;
    root.dataset.theme = theme.value;
    root.style.setProperty('--zoom', zoom.value.toFixed(2));
  });
}
