import { signal } from '@preact/signals';

/** Which dialog is open; one at a time. */
export type OpenDialog = 'help' | 'submit' | 'leave' | null;
export const openDialog = signal<OpenDialog>(null);
