import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';

export interface MenuItem {
  label: string;
  /** Shown beside the label, and given to assistive technology. */
  keys?: string;
  disabled?: boolean;
  testId: string;
  run: () => void;
}

interface TerminalMenuProps {
  /** Where the menu opens, in the pane's coordinates (it is moved back inside if it would overflow). */
  at: { x: number; y: number };
  items: MenuItem[];
  /** `refocus`: give the focus back to the terminal (Escape, a choice), not when the click went elsewhere. */
  onClose: (refocus: boolean) => void;
}

/**
 * The terminal's context menu (a right click, Shift+F10, the menu key or the
 * pane's menu button): a menu in the ARIA sense, so arrows, Home and End move
 * between items, Enter or Space chooses, Escape closes and goes back to the
 * terminal, and Tab or a click elsewhere closes it.
 */
export function TerminalMenu({ at, items, onClose }: TerminalMenuProps) {
  const ref = useRef<HTMLDivElement>(null);
  const closeRef = useRef(onClose);
  closeRef.current = onClose;

  useLayoutEffect(() => {
    const menu = ref.current;
    const pane = menu?.offsetParent;
    if (!menu || !(pane instanceof HTMLElement)) return;
    const x = Math.max(4, Math.min(at.x, pane.clientWidth - menu.offsetWidth - 4));
    const y = Math.max(4, Math.min(at.y, pane.clientHeight - menu.offsetHeight - 4));
    menu.style.left = `${x}px`;
    menu.style.top = `${y}px`;
    menu.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
  }, [at.x, at.y]);

  useEffect(() => {
    const onPointerDown = (event: PointerEvent) => {
      if (!ref.current?.contains(event.target as Node)) closeRef.current(false);
    };
    document.addEventListener('pointerdown', onPointerDown, true);
    return () => document.removeEventListener('pointerdown', onPointerDown, true);
  }, []);

  const onKeyDown = (event: KeyboardEvent) => {
    const entries = [...(ref.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const index = entries.indexOf(document.activeElement as HTMLElement);
    const focus = (i: number) => entries[(i + entries.length) % entries.length]?.focus();
    switch (event.key) {
      case 'ArrowDown':
        focus(index + 1);
        break;
      case 'ArrowUp':
        focus(index - 1);
        break;
      case 'Home':
        focus(0);
        break;
      case 'End':
        focus(entries.length - 1);
        break;
      case 'Escape':
        closeRef.current(true);
        break;
      case 'Tab':
        closeRef.current(false);
        return;
      default:
        return;
    }
    event.preventDefault();
    // The console's own shortcuts do not apply inside the menu.
    event.stopPropagation();
  };

  return (
    <div
      ref={ref}
      class="terminal-menu"
      role="menu"
      aria-label="Terminal"
      data-testid="terminal-menu"
      onKeyDown={onKeyDown}
      onContextMenu={(event) => event.preventDefault()}
    >
      {items.map((item) => (
        <button
          key={item.testId}
          type="button"
          role="menuitem"
          class="terminal-menu__item"
          tabIndex={-1}
          aria-disabled={item.disabled ? 'true' : undefined}
          aria-keyshortcuts={item.keys?.replace('Ctrl', 'Control')}
          data-testid={item.testId}
          onClick={() => {
            if (item.disabled) return;
            closeRef.current(true);
            item.run();
          }}
        >
          <span>{item.label}</span>
          {item.keys && (
            <kbd class="terminal-menu__keys" aria-hidden="true">
              {item.keys}
            </kbd>
          )}
        </button>
      ))}
    </div>
  );
}
