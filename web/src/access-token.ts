/**
 * The server's access token (FRANKENSCOPE_TOKEN), when it has one. The user
 * opens the dashboard once as `/?token=...` (the way Jupyter hands out its
 * token); it is kept in this tab's sessionStorage and removed from the
 * address bar at once, so it stays out of shared links, bookmarks and the
 * history.
 */
const STORAGE_KEY = 'frankenscope.token';

/** Reads `?token=` from the address (then strips it) or the token this tab stored before; null when neither has one. */
export function takeAccessToken(location: Location = window.location, history: History = window.history, storage: Storage | null = sessionStorageOrNull()): string | null {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl !== null) {
    url.searchParams.delete('token');
    history.replaceState(history.state, '', `${url.pathname}${url.search}${url.hash}`);
    if (fromUrl !== '') {
      storage?.setItem(STORAGE_KEY, fromUrl);
      return fromUrl;
    }
  }
  return storage?.getItem(STORAGE_KEY) ?? null;
}

/** Storage can be switched off (privacy settings); the token then lasts as long as the page. */
function sessionStorageOrNull(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}
