package workload

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Nginx is Debian's nginx laid out in a directory by LayoutNginx: as root,
// one worker, in the foreground, serving www/ (index.html, and uploads/
// for WebDAV PUT), its pid file and error log in run/, its temporary files
// in tmp/, /shadow an alias of /etc/shadow and /proxy/ a proxy_pass to an
// upstream port.
type Nginx struct {
	// Dir is the directory on the host; WWW the served directory in it.
	Dir, WWW string
	// Conf is nginx.conf's path on the host; ErrorLog the error log's.
	Conf, ErrorLog string
	// Command is nginx's command line, with the paths nginx sees.
	Command []string
}

// LayoutNginx lays Nginx out in dir, which nginx sees at seen (dir itself
// on the host, the path dir is bound at in a container), listening on
// 127.0.0.1:port and proxying /proxy/ to 127.0.0.1:upstream. nginx makes
// its pid file (and may make its log) where they are configured, so its
// Landlock ruleset grants make_reg there; Landlock grants a right on a
// directory and everything beneath it, so they live in run/, apart from
// the served tree (as /run/nginx.pid and /var/www are): in the directory
// above www, make_reg would reach www too (docs/landlock.md#recording).
func LayoutNginx(t testing.TB, dir, seen, port, upstream string) *Nginx {
	t.Helper()
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		if nginx, err = exec.LookPath("/usr/sbin/nginx"); err != nil {
			t.Fatalf("nginx (Debian's nginx package; scripts/deps.sh installs it): %v", err)
		}
	}
	n := &Nginx{Dir: dir, WWW: filepath.Join(dir, "www"), Conf: filepath.Join(dir, "nginx.conf"), ErrorLog: filepath.Join(dir, "run", "error.log")}
	for _, d := range []string{n.WWW, filepath.Join(n.WWW, "uploads"), filepath.Join(dir, "tmp"), filepath.Join(dir, "run")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(n.WWW, "index.html"), []byte("served by nginx\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	text := fmt.Sprintf(`daemon off;
user root;
worker_processes 1;
pid %[1]s/run/nginx.pid;
error_log %[1]s/run/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path %[1]s/tmp/body;
	proxy_temp_path %[1]s/tmp/proxy;
	fastcgi_temp_path %[1]s/tmp/fastcgi;
	uwsgi_temp_path %[1]s/tmp/uwsgi;
	scgi_temp_path %[1]s/tmp/scgi;
	server {
		listen 127.0.0.1:%[2]s;
		root %[1]s/www;
		location / { dav_methods PUT; }
		location = /shadow { alias /etc/shadow; }
		location /proxy { proxy_pass http://127.0.0.1:%[3]s/; }
	}
}
`, seen, port, upstream)
	if err := os.WriteFile(n.Conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	n.Command = []string{nginx, "-e", seen + "/run/error.log", "-p", seen, "-c", seen + "/nginx.conf"}
	return n
}

// LogOnFail logs nginx's error log if t failed; defer it.
func (n *Nginx) LogOnFail(t testing.TB) {
	if b, err := os.ReadFile(n.ErrorLog); err == nil && t.Failed() {
		t.Logf("nginx's error log:\n%s", b)
	}
}
