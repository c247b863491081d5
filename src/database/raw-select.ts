import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * Runs a hand-written SELECT and hydrates the rows into entities with
 * TypeORM's own per-driver conversions (booleans, JSON, column transformers),
 * so the SQL stays portable across SQLite and PostgreSQL. For hot paths only:
 * building a query with find() costs more than SQLite takes to answer it.
 * Write identifiers in "double quotes" and parameters as :name.
 */
export async function rawSelect<T extends ObjectLiteral>(
  dataSource: DataSource,
  entity: EntityTarget<T>,
  sql: string,
  parameters: Record<string, unknown>,
): Promise<T[]> {
  const metadata = dataSource.getMetadata(entity);
  const [query, values] = dataSource.driver.escapeQueryWithParameters(sql, parameters);
  const rows = (await dataSource.query(query, values)) as Record<string, unknown>[];
  return rows.map((row) => {
    const hydrated = metadata.create() as T & Record<string, unknown>;
    for (const column of metadata.columns) {
      if (column.databaseName in row) {
        (hydrated as Record<string, unknown>)[column.propertyName] =
          dataSource.driver.prepareHydratedValue(row[column.databaseName], column);
      }
    }
    return hydrated;
  });
}
