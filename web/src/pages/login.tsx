import { useState } from 'preact/hooks';
import { api, setCsrfToken } from '../api.js';

/** Log in with the admin token, or with the user and password set in the server's settings. */
export function LoginPage({ onLogin }: { onLogin: (user: string) => void }) {
  const [mode, setMode] = useState<'token' | 'password'>('token');
  const [token, setToken] = useState('');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const body = mode === 'token' ? { token } : { username, password };
      const s = await api<{ user: string; csrfToken: string }>('POST', '/api/session', body);
      setCsrfToken(s.csrfToken);
      onLogin(s.user);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <form class="login" onSubmit={submit}>
      <h1>Switchboard</h1>
      <div class="tabs">
        <button type="button" class={mode === 'token' ? 'active' : ''} onClick={() => setMode('token')}>
          Admin token
        </button>
        <button type="button" class={mode === 'password' ? 'active' : ''} onClick={() => setMode('password')}>
          User and password
        </button>
      </div>
      {mode === 'token' ? (
        <div class="field">
          <label for="login-token">Admin token</label>
          <input
            id="login-token"
            name="token"
            type="password"
            autocomplete="current-password"
            value={token}
            onInput={(e) => setToken(e.currentTarget.value)}
          />
          <small class="hint">printed at first start, and kept in data/admin-token</small>
        </div>
      ) : (
        <>
          <div class="field">
            <label for="login-user">User</label>
            <input
              id="login-user"
              name="username"
              autocomplete="username"
              value={username}
              onInput={(e) => setUsername(e.currentTarget.value)}
            />
          </div>
          <div class="field">
            <label for="login-password">Password</label>
            <input
              id="login-password"
              name="password"
              type="password"
              autocomplete="current-password"
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
            />
          </div>
        </>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" class="primary">
        Log in
      </button>
    </form>
  );
}
