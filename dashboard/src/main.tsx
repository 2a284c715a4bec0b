import { render } from 'preact';
import { App } from './app';
import { createStore } from './state/store';
import './styles.css';

// Empty means "same origin": the Node server serves the dashboard and the API together.
// A Pages deployment is built with VITE_API_BASE_URL set to the API's origin.
const apiBase = (import.meta.env.VITE_API_BASE_URL ?? '').replace(/\/+$/, '');

const store = createStore({ window, storage: window.localStorage, apiBase });
store.start();
void store.i18n.ready.then(() => render(<App store={store} />, document.getElementById('app')!));
