import { useEffect, useState } from 'preact/hooks';

/** The view in the address bar: `#/channels/view/demo` → ['channels', 'view', 'demo'] (decoded). */
export function useRoute(): string[] {
  const parse = () =>
    location.hash
      .replace(/^#\/?/, '')
      .split('/')
      .filter(Boolean)
      .map((p) => decodeURIComponent(p));
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const onChange = () => setRoute(parse());
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/** Goes to a view: `go('channels', 'view', name)`. */
export function go(...parts: string[]): void {
  location.hash = '#/' + parts.map((p) => encodeURIComponent(p)).join('/');
}

/** A link to a view. */
export function href(...parts: string[]): string {
  return '#/' + parts.map((p) => encodeURIComponent(p)).join('/');
}
