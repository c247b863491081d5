import type { ComponentChildren } from 'preact';
import { useRef } from 'preact/hooks';
import { SPLIT_MAX, SPLIT_MIN, setSplit, split } from '../prefs.js';

const KEY_STEP = 0.02;

/**
 * Task panel | terminal, divided by a handle that can be dragged or moved
 * with the arrow keys (Home and End for the extremes). The ratio is
 * remembered when a move ends.
 */
export function SplitPane({
  left,
  right,
  leftId,
}: {
  left: ComponentChildren;
  right: ComponentChildren;
  leftId: string;
}) {
  const container = useRef<HTMLDivElement>(null);
  const dragging = useRef(false);
  const ratio = split.value;

  const ratioAt = (clientX: number) => {
    const rect = container.current?.getBoundingClientRect();
    return rect && rect.width > 0 ? (clientX - rect.left) / rect.width : ratio;
  };

  const onPointerDown = (event: PointerEvent) => {
    if (event.button !== 0) return;
    dragging.current = true;
    (event.currentTarget as HTMLElement).setPointerCapture(event.pointerId);
    event.preventDefault();
  };

  const onPointerMove = (event: PointerEvent) => {
    if (dragging.current) setSplit(ratioAt(event.clientX), false);
  };

  const onPointerUp = (event: PointerEvent) => {
    if (!dragging.current) return;
    dragging.current = false;
    setSplit(ratioAt(event.clientX), true);
  };

  const onKeyDown = (event: KeyboardEvent) => {
    const moves: Record<string, number> = {
      ArrowLeft: ratio - KEY_STEP,
      ArrowRight: ratio + KEY_STEP,
      Home: SPLIT_MIN,
      End: SPLIT_MAX,
    };
    const next = moves[event.key];
    if (next === undefined) return;
    event.preventDefault();
    setSplit(next, true);
  };

  return (
    <div class="split" ref={container}>
      <div
        class="split__pane split__pane--left"
        style={{ flexBasis: `${(ratio * 100).toFixed(1)}%` }}
      >
        {left}
      </div>
      <div
        class="split__handle"
        role="separator"
        tabIndex={0}
        aria-orientation="vertical"
        aria-label="Resize the task panel"
        aria-controls={leftId}
        aria-valuenow={Math.round(ratio * 100)}
        aria-valuemin={Math.round(SPLIT_MIN * 100)}
        aria-valuemax={Math.round(SPLIT_MAX * 100)}
        data-testid="split-handle"
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        onKeyDown={onKeyDown}
      />
      <div class="split__pane split__pane--right">{right}</div>
    </div>
  );
}
