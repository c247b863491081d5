/** Small inline icons; decorative, so hidden from assistive technology. */

const base = {
  width: 16,
  height: 16,
  viewBox: '0 0 16 16',
  fill: 'none',
  stroke: 'currentColor',
  'stroke-width': 1.6,
  'stroke-linecap': 'round',
  'stroke-linejoin': 'round',
  'aria-hidden': 'true',
  focusable: 'false',
} as const;

export const FlagIcon = ({ filled }: { filled?: boolean }) => (
  <svg {...base} class="icon">
    <path d="M3.5 14.5v-12" />
    <path d="M3.5 2.5h8.5l-2 3 2 3H3.5" fill={filled ? 'currentColor' : 'none'} />
  </svg>
);

export const SunIcon = () => (
  <svg {...base} class="icon">
    <circle cx="8" cy="8" r="3" />
    <path d="M8 1v1.5M8 13.5V15M1 8h1.5M13.5 8H15M3 3l1 1M12 12l1 1M3 13l1-1M12 4l1-1" />
  </svg>
);

export const MoonIcon = () => (
  <svg {...base} class="icon">
    <path d="M13.5 9.5A5.5 5.5 0 0 1 6.5 2.5a5.5 5.5 0 1 0 7 7z" />
  </svg>
);

export const ArrowLeftIcon = () => (
  <svg {...base} class="icon">
    <path d="M10 3L5 8l5 5" />
  </svg>
);

export const ArrowRightIcon = () => (
  <svg {...base} class="icon">
    <path d="M6 3l5 5-5 5" />
  </svg>
);

export const CheckIcon = () => (
  <svg {...base} class="icon">
    <path d="M3 8.5l3 3 7-7" />
  </svg>
);
