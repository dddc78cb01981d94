package httptarget

import (
	"errors"
	"io"
	"net"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// connPair returns both ends of a fresh loopback TCP connection.
func connPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	return client, server
}

// waitReadable blocks until conn has something to read or its peer closed it.
func waitReadable(t *testing.T, conn net.Conn) {
	t.Helper()
	raw, err := conn.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	raw.Control(func(fd uintptr) {
		n, err = unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN | unix.POLLRDHUP}}, 10_000)
	})
	if err != nil || n != 1 {
		t.Fatalf("poll = %d, %v; want the connection readable within 10s", n, err)
	}
}

// The probe before a request on a reused connection tells an idle connection from one
// the server closed or sent something unasked on, consuming nothing.
func TestProbeIdle(t *testing.T) {
	tests := []struct {
		name string
		peer func(server net.Conn) // what the server does while the connection idles; nil: nothing
		want error
	}{
		{"idle", nil, nil},
		{"closed by the server", func(s net.Conn) { s.Close() }, errClosedIdle},
		{"reset by the server", func(s net.Conn) { s.(*net.TCPConn).SetLinger(0); s.Close() }, errClosedIdle},
		{"unsolicited bytes", func(s net.Conn) { io.WriteString(s, "HTTP/1.1 408 Request Timeout\r\n\r\n") }, errUnsolicited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, server := connPair(t)
			if tt.peer != nil {
				tt.peer(server)
				waitReadable(t, client)
			}
			for range 2 { // twice: the probe consumes nothing
				if err := probeConn(client); !errors.Is(err, tt.want) {
					t.Fatalf("got %v, want %v", err, tt.want)
				}
			}
		})
	}
}

// A written request that met no reply goes again only when PIC cannot have read it:
// the kernel's count of acknowledged bytes tells a server that had closed the
// connection before the request arrived (it answers with a reset and acknowledges
// nothing) from one that read the request and then hung up (its FIN acknowledges it).
func TestUnseenTellsWhetherPICCouldHaveReadTheRequest(t *testing.T) {
	tests := []struct {
		name       string
		readsFirst bool // the server reads the request before it closes
		want       bool
	}{
		{"server closed before the request came", false, true},
		{"server read the request, then hung up", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, server := connPair(t)
			var src replySource
			src.reset(client)
			buf := make([]byte, 64)
			// One exchange first, so the request is not the connection's first bytes.
			if err := src.send([]byte("first request"), false); err != nil {
				t.Fatal(err)
			}
			go func() {
				io.ReadFull(server, make([]byte, len("first request")))
				io.WriteString(server, "reply")
			}()
			if n, err := src.Read(buf); err != nil || string(buf[:n]) != "reply" {
				t.Fatalf("Read = %q, %v; want the reply", buf[:n], err)
			}
			request := []byte("second request")
			if !tt.readsFirst {
				server.Close()
				waitReadable(t, client) // the close is here before the request is written
			}
			// Without the probe, as when the close crosses the request on the wire.
			if err := src.send(request, false); err != nil {
				t.Fatal(err)
			}
			if tt.readsFirst {
				go func() {
					io.ReadFull(server, make([]byte, len(request)))
					server.Close()
				}()
			}
			if n, err := src.Read(buf); err == nil {
				t.Fatalf("Read = %q, want the connection's end", buf[:n])
			}
			if got := src.unseen(); got != tt.want {
				t.Errorf("got unseen %v, want %v", got, tt.want)
			}
		})
	}
}
