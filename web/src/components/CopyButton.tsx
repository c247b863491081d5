import { useEffect, useState } from 'preact/hooks';
import { copyText } from '../clipboard.js';
import { announce } from '../store.js';

interface CopyButtonProps {
  text: string;
  /** What is copied, for screen readers: "Copy <what>". */
  what: string;
  testId?: string;
  class?: string;
}

export function CopyButton({ text, what, testId, class: extraClass }: CopyButtonProps) {
  const [copied, setCopied] = useState(false);

  useEffect(() => {
    if (!copied) return;
    const timer = setTimeout(() => setCopied(false), 1500);
    return () => clearTimeout(timer);
  }, [copied]);

  const onClick = async () => {
    if (await copyText(text)) {
      setCopied(true);
      announce('Copied to the clipboard');
    } else {
      announce('Could not copy: select the text and press Ctrl+C');
    }
  };

  return (
    <button
      type="button"
      class={`copy-button${extraClass ? ` ${extraClass}` : ''}`}
      aria-label={`Copy ${what}`}
      data-testid={testId}
      onClick={() => void onClick()}
    >
      {copied ? 'Copied' : 'Copy'}
    </button>
  );
}
