package httptarget

import (
	"bufio"
	"errors"
	"strings"
	"testing"
)

// FuzzReadResponse: PIC's replies are outside input. `go test -fuzz FuzzReadResponse
// ./soak/httptarget/` searches further.
func FuzzReadResponse(f *testing.F) {
	for _, seed := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nbody until close",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\n",
		"HTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"garbage\r\n\r\n",
		"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	} {
		f.Add(seed, int64(16))
	}
	f.Fuzz(func(t *testing.T, reply string, maxBody int64) {
		if maxBody < 0 || maxBody > 1<<20 {
			return
		}
		h, err := readResponse(bufio.NewReaderSize(strings.NewReader(reply), readBufferSize), false, maxBody, nil)
		if (err == nil || errors.Is(err, errBodyTooLarge)) && (h.status < 200 || h.status > 999) {
			t.Errorf("status %d accepted from %q", h.status, reply)
		}
	})
}
