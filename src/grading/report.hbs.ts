/**
 * The score report page. It lives in a .ts file because `nest build` copies
 * only compiled TypeScript into dist/.
 *
 * Every value from the report goes through `{{…}}` (HTML-escaped): titles,
 * answers, check messages and solutions come from question authors,
 * candidates and the cluster. The one exception, `{{{…}}}`, is HTML the
 * server rendered from Markdown with raw HTML off (`taskHtml`,
 * `explanationHtml`, from question-bank/markdown.ts). The Content-Security-Policy
 * is a second line of defence: the page needs no script, image or fetch.
 */
export const REPORT_TEMPLATE = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{{{csp}}}">
<title>Score report: {{examTitle}}{{#if candidateName}} ({{candidateName}}){{/if}}</title>
<style>
  :root { color-scheme: light; --ok: #1d6b35; --ok-bg: #e3f4e8; --bad: #a32020; --bad-bg: #fbe6e6;
    --warn: #7a4a00; --warn-bg: #fff3d6; --muted: #5a5f66; --line: #d7dbe0; --bar: #e8ebef; --fill: #2f6fb2; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1f24; background: #fff; }
  main { max-width: 62rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
  h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
  h2 { font-size: 1.25rem; margin: 2rem 0 .75rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; }
  h3 { font-size: 1.1rem; margin: 0 0 .5rem; }
  h4 { font-size: 1rem; margin: 1rem 0 .4rem; }
  .muted { color: var(--muted); }
  dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 1rem 0; }
  dl.facts dt { font-weight: 600; }
  dl.facts dd { margin: 0; }
  .banner { border-radius: 6px; padding: .9rem 1rem; margin: 1rem 0; border: 2px solid; }
  .banner strong.verdict { font-size: 1.3rem; display: block; }
  .banner.pass { color: var(--ok); background: var(--ok-bg); border-color: var(--ok); }
  .banner.fail { color: var(--bad); background: var(--bad-bg); border-color: var(--bad); }
  .banner.pending, .warning { color: var(--warn); background: var(--warn-bg); border-color: var(--warn); }
  .warning { border: 2px solid var(--warn); border-radius: 6px; padding: .75rem 1rem; margin: 1rem 0; font-weight: 600; }
  .bar { position: relative; height: .9rem; background: var(--bar); border-radius: 4px; overflow: hidden; }
  .bar-fill { height: 100%; background: var(--fill); }
  .bar-mark { position: absolute; top: 0; bottom: 0; width: 2px; background: #1b1f24; }
  ul.domains { list-style: none; padding: 0; margin: 0; }
  ul.domains li { display: grid; grid-template-columns: minmax(10rem, 16rem) 1fr 9rem; gap: .75rem; align-items: center; margin: .4rem 0; }
  .score { text-align: right; font-variant-numeric: tabular-nums; }
  section.task { border: 1px solid var(--line); border-radius: 6px; padding: 1rem; margin: 1rem 0; break-inside: avoid; }
  .badge { display: inline-block; border-radius: 999px; padding: 0 .6rem; font-size: .85rem; font-weight: 600; border: 1px solid; }
  .outcome-full { color: var(--ok); background: var(--ok-bg); }
  .outcome-partial, .outcome-incomplete { color: var(--warn); background: var(--warn-bg); }
  .outcome-zero { color: var(--bad); background: var(--bad-bg); }
  .setup-problem { color: var(--bad); background: var(--bad-bg); border-left: 4px solid var(--bad); padding: .5rem .75rem; margin: .75rem 0; }
  pre, .pre { white-space: pre-wrap; overflow-wrap: anywhere; }
  pre { background: #f4f6f8; border: 1px solid var(--line); border-radius: 4px; padding: .6rem .75rem; font: .9rem/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; margin: .4rem 0; }
  table { border-collapse: collapse; width: 100%; margin: .5rem 0; font-size: .95rem; }
  caption { text-align: left; font-weight: 600; padding: .25rem 0; }
  th, td { border: 1px solid var(--line); padding: .35rem .5rem; vertical-align: top; text-align: left; }
  thead th { background: #f4f6f8; }
  td.num { white-space: nowrap; font-variant-numeric: tabular-nums; }
  td.message { white-space: pre-wrap; overflow-wrap: anywhere; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85rem; }
  .status { font-weight: 600; white-space: nowrap; }
  .status-passed { color: var(--ok); }
  .status-failed { color: var(--bad); }
  .status-skipped { color: var(--muted); }
  .status-error { color: var(--warn); }
  .solution { border-top: 1px dashed var(--line); margin-top: 1rem; }
  .solution p { white-space: pre-line; }
  @media print {
    * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
    main { max-width: none; padding: 0; }
  }
</style>
</head>
<body>
<main>
<header>
  <h1>{{examTitle}}</h1>
  <p class="muted">Score report for {{#if candidateName}}{{candidateName}}{{else}}an unnamed candidate{{/if}}</p>
</header>

{{#unless complete}}
<div class="warning" role="alert">Grading is incomplete: {{#if incompleteNote}}{{incompleteNote}}{{else}}some checks could not be decided.{{/if}} The score below counts only the checks that were decided; it is not final.</div>
{{/unless}}

<section aria-labelledby="result-heading">
  <h2 id="result-heading">Result</h2>
  {{#if complete}}
  <div class="banner {{#if passed}}pass{{else}}fail{{/if}}">
    <strong class="verdict">{{#if passed}}Passed{{else}}Not passed{{/if}}</strong>
    {{formatPercent percent}} against a pass mark of {{formatPercent passPercent}}
  </div>
  {{else}}
  <div class="banner pending">
    <strong class="verdict">Result pending</strong>
    {{formatPercent percent}} from the checks decided so far, against a pass mark of {{formatPercent passPercent}}
  </div>
  {{/if}}
  <div class="bar" role="img" aria-label="Score {{formatPercent percent}}, pass mark {{formatPercent passPercent}}">
    <div class="bar-fill" style="width: {{barWidth percent}}%"></div>
    <div class="bar-mark" style="left: {{barWidth passPercent}}%"></div>
  </div>
  <dl class="facts">
    <dt>Candidate</dt><dd>{{#if candidateName}}{{candidateName}}{{else}}<span class="muted">not given</span>{{/if}}</dd>
    <dt>Points</dt><dd>{{pointsAwarded}} of {{pointsPossible}}{{#unless complete}} (so far){{/unless}}</dd>
    <dt>Time used</dt><dd>{{formatDuration timeUsedSeconds}} of {{formatDuration durationSeconds}}</dd>
    <dt>Started</dt><dd>{{#if startedAt}}<time datetime="{{startedAt}}">{{formatTime startedAt}}</time>{{else}}<span class="muted">not started</span>{{/if}}</dd>
    <dt>Ended</dt><dd>{{#if endedAt}}<time datetime="{{endedAt}}">{{formatTime endedAt}}</time>{{else}}<span class="muted">not ended</span>{{/if}}</dd>
    <dt>Session</dt><dd>{{sessionId}} ({{state}})</dd>
    <dt>Grading run</dt><dd>{{run.status}}, triggered by {{run.trigger}}, started <time datetime="{{run.startedAt}}">{{formatTime run.startedAt}}</time>{{#if run.finishedAt}}, finished <time datetime="{{run.finishedAt}}">{{formatTime run.finishedAt}}</time>{{/if}}</dd>
  </dl>
</section>

{{#if domains.length}}
<section aria-labelledby="domains-heading">
  <h2 id="domains-heading">Score by domain</h2>
  <ul class="domains">
    {{#each domains}}
    <li>
      <span>{{domainName}}</span>
      <div class="bar" role="img" aria-label="{{domainName}}: {{formatPercent percent}} ({{pointsAwarded}} of {{pointsPossible}} points)"><div class="bar-fill" style="width: {{barWidth percent}}%"></div></div>
      <span class="score">{{formatPercent percent}} &middot; {{pointsAwarded}}/{{pointsPossible}}</span>
    </li>
    {{/each}}
  </ul>
</section>
{{/if}}

<section aria-labelledby="tasks-heading">
  <h2 id="tasks-heading">Tasks</h2>
  {{#each tasks}}
  <section class="task" id="task-{{number}}" aria-labelledby="task-{{number}}-title">
    <h3 id="task-{{number}}-title">Task {{number}}: {{title}}</h3>
    <p>
      <span class="badge outcome-{{outcome}}">{{outcomeLabel outcome}}</span>
      {{pointsAwarded}} of {{pointsPossible}} points{{#if (eq outcome "incomplete")}} so far{{/if}}
      <span class="muted">&middot; {{domainName}} &middot; {{questionId}}</span>
    </p>
    <details class="task-text"><summary>Task text</summary>{{{taskHtml}}}</details>
    {{#if (eq setupStatus "failed")}}
    <div class="setup-problem" role="note"><strong>Setup problem:</strong> the environment for this task could not be prepared completely.{{#if setupMessage}} <span class="pre">{{setupMessage}}</span>{{/if}}</div>
    {{/if}}
    {{#if answer}}
    <h4>Answer given</h4>
    <pre class="answer">{{answer}}</pre>
    {{/if}}
    {{#if checks.length}}
    <table class="checks">
      <caption>Checks for task {{number}}</caption>
      <thead><tr><th scope="col">Result</th><th scope="col">Check</th><th scope="col">Points</th><th scope="col">Details</th><th scope="col">Hint</th></tr></thead>
      <tbody>
        {{#each checks}}
        <tr class="check-{{status}}">
          <td><span class="status status-{{status}}"><span aria-hidden="true">{{statusIcon status}}</span> {{statusLabel status}}</span></td>
          <td>{{description}}</td>
          <td class="num">{{#if (eq status "error")}}<span title="not decided">&ndash;</span>{{else}}{{pointsAwarded}}{{/if}} / {{pointsPossible}}</td>
          <td class="message">{{message}}</td>
          <td>{{#if hint}}{{hint}}{{/if}}</td>
        </tr>
        {{/each}}
      </tbody>
    </table>
    {{else}}
    <p class="muted">No checks were recorded for this task.</p>
    {{/if}}
    {{#if @root.showSolutions}}{{#if solution}}
    <section class="solution" aria-labelledby="task-{{number}}-solution">
      <h4 id="task-{{number}}-solution">Reference solution</h4>
      {{{solution.explanationHtml}}}
      {{#if solution.commands.length}}
      <pre class="commands"><code>{{joinLines solution.commands}}</code></pre>
      {{/if}}
    </section>
    {{/if}}{{/if}}
  </section>
  {{else}}
  <p class="muted">This exam had no tasks.</p>
  {{/each}}
</section>

{{#if history.length}}
<section aria-labelledby="history-heading">
  <h2 id="history-heading">Grading history</h2>
  <table class="history">
    <thead><tr><th scope="col">Started</th><th scope="col">Trigger</th><th scope="col">Status</th><th scope="col">Score</th></tr></thead>
    <tbody>
      {{#each history}}
      <tr>
        <td><time datetime="{{startedAt}}">{{formatTime startedAt}}</time>{{#if (eq runId @root.run.runId)}} <span class="muted">(this report)</span>{{/if}}</td>
        <td>{{trigger}}</td>
        <td>{{status}}</td>
        <td class="num">{{formatPercent percent}}</td>
      </tr>
      {{/each}}
    </tbody>
  </table>
</section>
{{/if}}

{{#if recording}}
<section aria-labelledby="recording-heading">
  <h2 id="recording-heading">Terminal recording</h2>
  {{#if recording.embedded}}
  <p class="muted">The candidate's terminal as they saw it. Idle pauses are cut to 2 s; pick a speed.</p>
  {{#each recording.styles}}<link rel="stylesheet" href="{{this}}">{{/each}}
  <div id="recording-player" data-speed="2"></div>
  <script type="application/json" id="recording-data">{{{recording.castJson}}}</script>
  <script type="module" src="{{recording.script}}"></script>
  {{else}}
  <p class="muted">Too large to play here ({{recording.sizeMb}} MB): download it from <code>{{recording.downloadPath}}</code> and play it with asciinema.</p>
  {{/if}}
</section>
{{/if}}
</main>
</body>
</html>
`;
