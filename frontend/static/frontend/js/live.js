// A websocket that reconnects by itself (phones sleep, networks change) and sends its
// subscription again after every reconnect.

export class LiveSocket {
  constructor(path, { onMessage, onOpen, onStateChange } = {}) {
    this.path = path;
    this.onMessage = onMessage;
    this.onOpen = onOpen;
    this.onStateChange = onStateChange || (() => {});
    this.retry = 0;
    this.closed = false;
    this.connect();
  }

  connect() {
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    this.socket = new WebSocket(`${scheme}://${window.location.host}${this.path}`);
    this.socket.onopen = () => {
      this.retry = 0;
      this.onStateChange('open');
      if (this.onOpen) this.onOpen(this);
    };
    this.socket.onmessage = (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch { return; }
      if (this.onMessage) this.onMessage(message);
    };
    this.socket.onclose = (event) => {
      this.onStateChange('closed');
      if (this.closed || event.code >= 4400) return;  // 44xx: the server refused for good
      this.retry += 1;
      setTimeout(() => this.connect(), Math.min(1000 * 2 ** this.retry, 30000));
    };
  }

  send(message) {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  close() {
    this.closed = true;
    this.socket.close();
  }
}
