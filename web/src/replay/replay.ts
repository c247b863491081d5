/**
 * The terminal recording player of the staff report page (served by the
 * engine with the report, see src/grading/report.hbs.ts): asciinema-player,
 * self-hosted, fed the recording embedded in the page, with speed buttons.
 */
import * as AsciinemaPlayer from 'asciinema-player';
import 'asciinema-player/dist/bundle/asciinema-player.css';
import './replay.css';

const SPEEDS = [0.5, 1, 2, 4, 8];

function start(): void {
  const host = document.getElementById('recording-player');
  const data = document.getElementById('recording-data');
  if (!host || !data?.textContent) return;
  const cast = JSON.parse(data.textContent) as string;
  const screen = document.createElement('div');
  const speeds = document.createElement('div');
  speeds.className = 'recording-speeds';
  speeds.setAttribute('role', 'group');
  speeds.setAttribute('aria-label', 'Playback speed');
  let player: { dispose(): void } | undefined;
  const play = (speed: number) => {
    player?.dispose();
    player = AsciinemaPlayer.create({ data: cast }, screen, {
      speed,
      idleTimeLimit: 2,
      fit: 'width',
      terminalFontSize: 'small',
    }) as { dispose(): void };
    for (const button of speeds.querySelectorAll('button')) {
      button.setAttribute('aria-pressed', String(Number(button.dataset.speed) === speed));
    }
  };
  for (const speed of SPEEDS) {
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.speed = String(speed);
    button.textContent = `${speed}×`;
    button.addEventListener('click', () => play(speed));
    speeds.append(button);
  }
  host.append(speeds, screen);
  play(Number(host.dataset.speed) || 2);
}

start();
