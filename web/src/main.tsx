import { render } from 'preact';

function App() {
  return <main>CKA mock exam console</main>;
}

render(<App />, document.getElementById('app')!);
