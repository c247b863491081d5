import { useLayoutEffect, useRef } from 'preact/hooks';
import { copyText } from '../clipboard.js';
import { announce } from '../store.js';

interface RichTextProps {
  /** HTML rendered by the server from Markdown with raw HTML disabled; nothing else may come here. */
  html: string;
  testId?: string;
  class?: string;
}

/**
 * Server-rendered task or explanation text, with copying added afterwards
 * (progressive enhancement, built with DOM calls, never HTML strings): a Copy
 * button on each code block, and inline code copied by a click or Enter.
 */
export function RichText({ html, testId, class: extraClass }: RichTextProps) {
  const ref = useRef<HTMLDivElement>(null);

  useLayoutEffect(() => {
    if (ref.current) addCopying(ref.current);
  }, [html]);

  return (
    <div
      ref={ref}
      class={`prose${extraClass ? ` ${extraClass}` : ''}`}
      data-testid={testId}
      dangerouslySetInnerHTML={{ __html: html }}
    />
  );
}

function addCopying(container: HTMLElement): void {
  for (const pre of container.querySelectorAll('pre')) {
    if (pre.parentElement?.classList.contains('code-block')) continue;
    const block = document.createElement('div');
    block.className = 'code-block';
    pre.replaceWith(block);
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'copy-button code-block__copy';
    button.textContent = 'Copy';
    button.setAttribute('aria-label', 'Copy this code block');
    button.addEventListener('click', () => void copyFrom(pre.textContent ?? '', button));
    block.append(pre, button);
  }
  for (const code of container.querySelectorAll('code')) {
    if (code.closest('pre') || code.classList.contains('copyable')) continue;
    code.classList.add('copyable');
    code.tabIndex = 0;
    code.setAttribute('role', 'button');
    code.setAttribute('aria-label', `Copy ${code.textContent ?? ''}`);
    code.title = 'Click to copy';
    code.addEventListener('click', () => {
      // Selecting part of it with the mouse also ends in a click: leave that alone.
      if (window.getSelection()?.toString()) return;
      void copyFrom(code.textContent ?? '', code);
    });
    code.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter' && event.key !== ' ') return;
      event.preventDefault();
      void copyFrom(code.textContent ?? '', code);
    });
  }
}

async function copyFrom(text: string, element: HTMLElement): Promise<void> {
  const copied = await copyText(text.replace(/\n$/, ''));
  announce(copied ? 'Copied to the clipboard' : 'Could not copy: select the text and press Ctrl+C');
  if (!copied) return;
  element.classList.add('is-copied');
  if (element instanceof HTMLButtonElement) element.textContent = 'Copied';
  setTimeout(() => {
    element.classList.remove('is-copied');
    if (element instanceof HTMLButtonElement) element.textContent = 'Copy';
  }, 1500);
}
