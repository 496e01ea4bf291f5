import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, setCsrfToken, setUnauthorizedHandler } from './api.js';
import { ChannelsPage } from './pages/channels.js';
import { ClusterPage } from './pages/cluster.js';
import { DashboardPage } from './pages/dashboard.js';
import { LoginPage } from './pages/login.js';
import { OutgoingPage } from './pages/outgoing.js';
import { PubSubPage } from './pages/pubsub.js';
import { SecurityPage } from './pages/security.js';
import { ServicesPage } from './pages/services.js';
import { href, useRoute } from './router.js';

const PAGES = [
  { key: 'dashboard', title: 'Dashboard', Page: DashboardPage },
  { key: 'channels', title: 'Channels', Page: ChannelsPage },
  { key: 'outgoing', title: 'Outgoing', Page: OutgoingPage },
  { key: 'security', title: 'Security', Page: SecurityPage },
  { key: 'pubsub', title: 'Pub/sub', Page: PubSubPage },
  { key: 'services', title: 'Services', Page: ServicesPage },
  { key: 'cluster', title: 'Cluster', Page: ClusterPage },
] as const;

type Session = { user: string } | null | undefined;

function App() {
  const [session, setSession] = useState<Session>(undefined);
  const route = useRoute();

  useEffect(() => {
    setUnauthorizedHandler(() => setSession(null));
    api<{ user: string; csrfToken: string | null }>('GET', '/api/session').then(
      (s) => {
        setCsrfToken(s.csrfToken);
        setSession({ user: s.user });
      },
      () => setSession(null),
    );
  }, []);

  if (session === undefined) return <p class="muted center">Loading…</p>;
  if (session === null) return <LoginPage onLogin={(user) => setSession({ user })} />;

  const logout = async () => {
    await api('DELETE', '/api/session').catch(() => undefined);
    setCsrfToken(null);
    setSession(null);
  };
  const current = PAGES.find((p) => p.key === route[0]) ?? PAGES[0];
  return (
    <div class="shell">
      <header>
        <span class="brand">Switchboard</span>
        <nav>
          {PAGES.map((p) => (
            <a href={href(p.key)} class={p === current ? 'active' : ''}>
              {p.title}
            </a>
          ))}
        </nav>
        <span class="user">
          {session.user}{' '}
          <button class="link" onClick={logout}>
            Log out
          </button>
        </span>
      </header>
      <main>
        <current.Page route={route.slice(1)} />
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
