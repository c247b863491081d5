import { Fragment } from 'preact';
import { SHORTCUTS } from '../shortcuts.js';

export function ShortcutTable({
  caption,
  rows = SHORTCUTS,
}: {
  caption: string;
  rows?: readonly { keys: string[]; action: string }[];
}) {
  return (
    <table class="shortcuts">
      <caption class="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Keys</th>
          <th scope="col">Action</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(({ keys, action }) => (
          <tr key={action}>
            <td>
              {keys.map((key, i) => (
                <Fragment key={key}>
                  {i > 0 && ' + '}
                  <kbd>{key}</kbd>
                </Fragment>
              ))}
            </td>
            <td>{action}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
