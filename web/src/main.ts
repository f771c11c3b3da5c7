/**
 * The dashboard shell: reads the catalog (checkpoints, probe sets), renders
 * the trio and probe-set pickers and the view the URL names, and renders
 * again whenever the URL changes (back, forward, an edited or shared link).
 */
import './style.css';
import { ApiError, request } from './api.js';
import { clear, h, selectField } from './dom.js';
import { CatalogDocument, type CatalogQuery } from './generated/graphql.js';
import { defaultTrio, formatState, patchState, readLocation, switchView, viewOf, VIEWS, writeLocation, type State, type ViewName } from './state.js';
import { characterizationView } from './views/characterization.js';
import type { ProbeSetInfo, View, ViewContext } from './views/common.js';
import { localizationView } from './views/localization.js';
import { necessityView } from './views/necessity.js';
import { transferabilityView } from './views/transferability.js';

const VIEW_RENDERERS: Record<ViewName, View> = {
  characterization: characterizationView,
  localization: localizationView,
  transferability: transferabilityView,
  necessity: necessityView,
};
const VIEW_TITLES: Record<ViewName, string> = {
  characterization: 'Update characterization',
  localization: 'Localization',
  transferability: 'Transferability',
  necessity: 'Necessity',
};

/** The probe set when the URL names none: localization wants image pairs (the reference format), the score grids want splits (JSONL). */
function defaultProbeSet(probeSets: readonly ProbeSetInfo[], view: ViewName): string | undefined {
  const wanted = view === 'localization' ? 'reference' : 'jsonl';
  return (probeSets.find((p) => p.format.startsWith(wanted)) ?? probeSets[0])?.id;
}

/** The state with every default written in, so the URL always says what is shown. */
function complete(state: State, catalog: CatalogQuery): State {
  const view = viewOf(state);
  const trio = defaultTrio(catalog.checkpoints.map((c) => c.id));
  return patchState(state, {
    view,
    base: state.base ?? trio.base,
    sft: state.sft ?? trio.sft,
    rl: state.rl ?? trio.rl,
    // the characterization reads no probes: a default there would follow the user to the other views
    probes: view === 'characterization' ? state.probes : (state.probes ?? defaultProbeSet(catalog.probeSets, view)),
  });
}

function start(root: HTMLElement, catalog: CatalogQuery): void {
  let controller: AbortController | undefined;
  let renderedHash = '';

  const render = () => {
    controller?.abort();
    controller = new AbortController();
    const signal = controller.signal;
    const state = complete(readLocation(), catalog);
    writeLocation(state, 'replace');
    renderedHash = window.location.hash;
    const view = viewOf(state);
    const probeSet = catalog.probeSets.find((p) => p.id === state.probes);
    const ctx: ViewContext = {
      catalog,
      get state() {
        return readLocation();
      },
      trio: { base: state.base!, sft: state.sft!, rl: state.rl! },
      probeSet,
      signal,
      set(changes, options = {}) {
        writeLocation(patchState(readLocation(), changes), options.mode ?? 'replace');
        if (options.render) render();
        else renderedHash = window.location.hash;
      },
    };
    const choose = (key: string) => (value: string) => {
      writeLocation(patchState(readLocation(), { [key]: value }), 'push');
      render();
    };
    const checkpointChoices = catalog.checkpoints.map((c) => ({ value: c.id, label: `${c.id} (${c.numLayers} layers)` }));
    const probeChoices = [
      ...(probeSet ? [] : [{ value: '', label: view === 'characterization' ? '(not used here)' : '(choose)' }]),
      ...catalog.probeSets.map((p) => ({ value: p.id, label: `${p.id} (${p.format}, ${p.exampleCount} examples${p.skippedCount ? `, ${p.skippedCount} left out` : ''})` })),
    ];
    const share = h('button', { type: 'button', class: 'secondary', 'data-action': 'share', title: 'copy a link that restores this view' }, 'Copy link');
    share.addEventListener('click', () => {
      void navigator.clipboard?.writeText(window.location.href).then(
        () => (share.textContent = 'Link copied'),
        () => (share.textContent = 'Copy the address bar'),
      );
    });
    clear(root);
    root.append(
      h(
        'header',
        { class: 'top' },
        h('h1', {}, 'frankenscope'),
        h('nav', {}, ...VIEWS.map((v) => h('a', { href: formatState(switchView(state, v)), 'data-view': v, class: v === view ? 'active' : undefined, 'aria-current': v === view ? 'page' : undefined }, VIEW_TITLES[v]))),
        share,
      ),
      h(
        'div',
        { class: 'pickers', 'data-pickers': '' },
        selectField('Base', 'base', checkpointChoices, state.base!, choose('base')),
        selectField('IN (SFT)', 'sft', checkpointChoices, state.sft!, choose('sft')),
        selectField('RL', 'rl', checkpointChoices, state.rl!, choose('rl')),
        selectField('Probe set', 'probes', probeChoices, state.probes ?? '', choose('probes')),
      ),
    );
    document.title = `frankenscope · ${VIEW_TITLES[view]}`;
    const main = h('main', { 'data-view': view });
    root.append(main);
    if (catalog.checkpoints.length === 0) {
      main.append(h('p', { class: 'error' }, 'No checkpoints are registered: register some with the registerCheckpoint mutation (see the README).'));
      return;
    }
    VIEW_RENDERERS[view](main, ctx);
  };

  const onNavigate = () => {
    // our own replaceState calls fire nothing; this is back, forward, a link or an edited address
    if (window.location.hash !== renderedHash) render();
  };
  window.addEventListener('popstate', onNavigate);
  window.addEventListener('hashchange', onNavigate);
  render();
}

async function main(): Promise<void> {
  const root = document.getElementById('app')!;
  try {
    start(root, await request(CatalogDocument, {}));
  } catch (err) {
    clear(root);
    root.append(h('p', { class: 'error' }, `The dashboard cannot read the API at /graphql: ${err instanceof ApiError ? err.message : (err as Error).message}`));
  }
}

void main();
