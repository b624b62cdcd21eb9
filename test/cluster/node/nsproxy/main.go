// nsproxy forwards TCP connections accepted inside a network namespace to an address in the
// namespace it was started in (the host's). The real node's kubelet, kube-proxy and pods live in
// their own network namespace, while the API server listens on the host's 127.0.0.1 only; this
// process opens its listeners inside the node's namespace and dials from the host's, so the API
// server never binds anything reachable from elsewhere.
//
// Usage: nsproxy -netns /run/netns/NAME -to 127.0.0.1:6443 -listen 127.0.0.1:6443 [-listen IP:PORT ...]
// It prints "ready" on stdout once every listener is open, and exits on SIGTERM/SIGINT.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// listenIn opens the listeners on one OS thread moved into the target namespace (a socket belongs
// to the namespace of the thread that created it), then moves that thread back.
func listenIn(nsPath string, addrs []string) ([]net.Listener, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return nil, err
	}
	defer self.Close()
	target, err := os.Open(nsPath)
	if err != nil {
		return nil, err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return nil, fmt.Errorf("setns %s: %w", nsPath, err)
	}
	var out []net.Listener
	var lerr error
	for _, a := range addrs {
		l, err := net.Listen("tcp", a)
		if err != nil {
			lerr = fmt.Errorf("listen %s in %s: %w", a, nsPath, err)
			break
		}
		out = append(out, l)
	}
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread cannot be trusted any more; never unlock it (Go then ends it with the goroutine).
		runtime.LockOSThread()
		return nil, fmt.Errorf("setns back: %w", err)
	}
	if lerr != nil {
		for _, l := range out {
			l.Close()
		}
		return nil, lerr
	}
	return out, nil
}

func pipe(a, b net.Conn) {
	var wg sync.WaitGroup
	wg.Add(2)
	cp := func(dst, src net.Conn) {
		defer wg.Done()
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}
	go cp(a, b)
	go cp(b, a)
	wg.Wait()
	a.Close()
	b.Close()
}

func main() {
	var listens listFlag
	nsPath := flag.String("netns", "", "network namespace file (e.g. /run/netns/NAME)")
	to := flag.String("to", "", "address to dial in the starting namespace")
	flag.Var(&listens, "listen", "address to listen on inside -netns (repeatable)")
	flag.Parse()
	if *nsPath == "" || *to == "" || len(listens) == 0 {
		log.Fatal("nsproxy: -netns, -to and at least one -listen are required")
	}
	ls, err := listenIn(*nsPath, listens)
	if err != nil {
		log.Fatalf("nsproxy: %v", err)
	}
	for _, l := range ls {
		go func(l net.Listener) {
			for {
				c, err := l.Accept()
				if err != nil {
					log.Printf("nsproxy: accept on %s: %v", l.Addr(), err)
					return
				}
				go func() {
					u, err := net.Dial("tcp", *to)
					if err != nil {
						log.Printf("nsproxy: dial %s: %v", *to, err)
						c.Close()
						return
					}
					pipe(c, u)
				}()
			}
		}(l)
	}
	fmt.Println("ready")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
}
