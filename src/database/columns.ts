import { Column, type ColumnOptions } from 'typeorm';

/**
 * Instants are stored as epoch milliseconds in a bigint column on both
 * databases: no time-zone conversions, and the same comparisons in SQLite and
 * PostgreSQL (pg returns bigint as a string, hence the transformer).
 */
export function InstantColumn(options: Pick<ColumnOptions, 'nullable' | 'name'> = {}) {
  return Column({
    type: 'bigint',
    ...options,
    transformer: {
      to: (value: Date | null | undefined) => (value == null ? value : value.getTime()),
      from: (value: string | number | null) => (value == null ? null : new Date(Number(value))),
    },
  });
}
