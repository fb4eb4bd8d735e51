package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley/parley/internal/config"
)

// selfSigned writes a certificate and key for 127.0.0.1 and returns their paths and the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "parley test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ = x509.ParseCertificate(der)
	keyDER, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile, cert
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// With a certificate and key, Parley serves HTTPS itself, and the redirect address sends plain HTTP there.
func TestServesHTTPSAndRedirects(t *testing.T) {
	certFile, keyFile, cert := selfSigned(t)
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.HTTP.TLSCert, cfg.HTTP.TLSKey = certFile, keyFile
	cfg.HTTP.RedirectAddr = freeAddr(t)
	cfg.Media.UDPPort, cfg.Media.TCPPort, cfg.Media.ListenIP = 0, 0, "127.0.0.1"
	cfg.TURN.UDPPort, cfg.TURN.TLSPort = 0, 0 // TLS stays off: no certificate
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, ready) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("parley stopped: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("parley did not start")
	}

	pool := x509.NewCertPool()
	pool.AddCert(cert)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil {
		t.Fatalf("https: %d", resp.StatusCode)
	}
	if resp, err := client.Get("http://" + addr + "/healthz"); err == nil && resp.StatusCode == http.StatusOK {
		t.Fatal("the TLS port answered plain HTTP")
	}

	resp, err = client.Get("http://" + cfg.HTTP.RedirectAddr + "/desk/?x=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, port, _ := net.SplitHostPort(addr)
	if want := "https://127.0.0.1:" + port + "/desk/?x=1"; resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != want {
		t.Fatalf("redirect: %d to %q, want %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
}

// A key without its certificate, or a redirect without TLS, stops the start-up with a clear message.
func TestTLSSettingsAreValidated(t *testing.T) {
	cfg := config.Default()
	cfg.HTTP.TLSKey = "key.pem"
	if err := cfg.Validate(); err == nil {
		t.Fatal("a key without a certificate was accepted")
	}
	cfg = config.Default()
	cfg.HTTP.RedirectAddr = ":80"
	if err := cfg.Validate(); err == nil {
		t.Fatal("a redirect without TLS was accepted")
	}
}
