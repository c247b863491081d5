import { render } from 'preact';
import { App } from './App.js';
import { applyPreferences } from './prefs.js';
import { boot, startStore } from './store.js';
import './styles.css';

applyPreferences();
startStore();
void boot();
render(<App />, document.getElementById('app')!);
