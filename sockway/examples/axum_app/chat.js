// The chat page: logs in (POST /api/login sets the session cookie), then
// opens a SockJS session on /chat, which the cookie authenticates.
// `?transport=xhr-streaming` (or any sockjs-client transport name) limits
// sockjs-client to that transport.
'use strict';

const transport = new URLSearchParams(location.search).get('transport');

const log = document.getElementById('log');
const say = document.getElementById('say');

function line(text) {
  log.textContent += text + '\n';
  log.scrollTop = log.scrollHeight;
}

function connect() {
  // timeout: how long a transport may take to open before sockjs-client
  // tries the next (by default a few round trips of /info: about a second
  // on a fast network, short for the iframe transports on a busy machine).
  const options = { timeout: 5000 };
  if (transport) options.transports = [transport];
  const sock = new SockJS('/chat', null, options);
  sock.onopen = () => {
    line(`(connected over ${sock.transport})`);
    say.hidden = false;
  };
  sock.onmessage = (e) => line(e.data);
  sock.onclose = (e) => {
    line(`(closed: ${e.code} ${e.reason})`);
    say.hidden = true;
  };
  say.onsubmit = (e) => {
    e.preventDefault();
    const text = document.getElementById('text');
    sock.send(text.value);
    text.value = '';
  };
}

document.getElementById('login').onsubmit = async (e) => {
  e.preventDefault();
  const name = document.getElementById('name').value;
  const res = await fetch('/api/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ name }),
  });
  if (!res.ok) {
    line(`(login refused: ${await res.text()})`);
    return;
  }
  document.getElementById('login').hidden = true;
  connect();
};
