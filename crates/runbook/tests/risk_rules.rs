//! The two rules no classification may break, whatever the tool, wrapper or placeholder: a
//! command that deletes, drops, truncates, wipes or force-removes is destructive, and a
//! command that writes is never read-only. Property-tested over tools, wrappers, placeholders
//! and extra options, so a new tool rule cannot quietly weaken either.

use proptest::prelude::*;
use sevwatch_runbook::{classify, RiskClass};

/// Commands that destroy data; `@` is where a placeholder or a name goes.
const DESTROYS: &[&str] = &[
    "rm -rf @",
    "rm @",
    "rm -f @.lock",
    "unlink @",
    "shred -u @",
    "truncate -s 0 @",
    "wipefs -a /dev/@",
    "mkfs.ext4 /dev/@",
    "dd if=/dev/zero of=/dev/@ bs=1M",
    "find /var/@ -mtime +7 -delete",
    "find /tmp -name @ -exec rm {} \\;",
    "rsync -a --delete src/ @/",
    "xargs rm -f < @",
    "> /var/log/@.log",
    "kubectl delete pod @",
    "kubectl -n @ delete ns @",
    "oc delete machineconfig @",
    "kubectl exec -it @ -- rm -rf /tmp/y",
    "docker rm -f @",
    "docker rmi @",
    "docker volume rm @",
    "docker system prune -af",
    "podman rm -f @",
    "crictl rmi @",
    "helm uninstall @",
    "helm delete @",
    "terraform destroy -auto-approve",
    "terraform state rm @",
    "pulumi destroy --yes",
    "aws s3 rm s3://@ --recursive",
    "aws ec2 terminate-instances --instance-ids @",
    "gsutil rm -r gs://@",
    "gsutil -m rm gs://@/**",
    "gcloud compute instances delete @ --zone us-east1-b",
    "gcloud compute instances delete @ --format=json",
    "az group delete --name @ --yes",
    "velero delete backup @",
    "ceph osd pool delete @ @ --yes-i-really-really-mean-it",
    "rados rm @",
    "rbd rm @",
    "etcdctl del @",
    "consul kv delete @",
    "vault kv delete @",
    "vault kv destroy -versions=1 @",
    "nomad job stop -purge @",
    "psql -c 'DROP TABLE @'",
    "psql -h @ -c 'TRUNCATE events'",
    "mysql -e 'DROP DATABASE @'",
    "sqlite3 @.db 'DELETE FROM jobs'",
    "redis-cli FLUSHALL",
    "redis-cli -h @ DEL key",
    "git clean -fdx",
    "git reset --hard origin/@",
    "git push --force origin @",
    "git branch -D @",
    "git branch -d @",
    "git tag -d @",
    "git update-ref -d refs/heads/@",
    "git rm -r @",
    "git remote remove @",
    "git reflog expire --expire=now --all",
    "git gc --prune=now",
    "curl -X DELETE https://@/api/1",
    "pkill -f @",
    "kill -9 @",
    "systemctl kill @",
    "iptables -F",
    "apt-get purge @",
    "pip uninstall -y @",
    "journalctl --vacuum-time=1d",
    "oc adm prune images --confirm",
    "ss -K dst @",
    "nvidia-smi -r -i 0",
    "http DELETE https://@/api/1",
    "loginctl terminate-session @",
    "route del default gw @",
    "ip route del @",
    "iptables -D INPUT -s @ -j DROP",
    "env rm -rf @",
    "chroot /host rm -rf /var/@",
    "toolbox rm -rf /var/@",
    "/usr/local/bin/@-ctl purge --all",
    "knife ssh 'role:@' \"for p in $(pgrep x); do kill -9 $p; done\"",
    "bundle exec knife ssh -a ipaddress 'role:@' 'sudo rm -rf /var/cache/x'",
];

/// Commands that change something and so may never be read-only.
const WRITES: &[&str] = &[
    "echo x > @",
    "echo x >> @",
    "date > @.txt",
    "tee @",
    "cp a @",
    "mv a @",
    "ln -s a @",
    "touch @",
    "mkdir -p @",
    "chmod 600 @",
    "tar -xzf @",
    "sed -i s/a/b/ @",
    "wget https://@/file",
    "curl -o @ https://example.com",
    "curl -X POST https://@/api",
    "curl -d a=1 https://@/api",
    "kubectl apply -f @",
    "kubectl patch deploy @ -p '{}'",
    "kubectl scale deploy @ --replicas=3",
    "kubectl rollout restart deploy @",
    "oc adm drain @",
    "systemctl restart @",
    "service @ restart",
    "git commit -m @",
    "git checkout -- @",
    "oc rsh @ touch /tmp/x",
    "helm upgrade --install @ chart",
    "terraform apply",
    "gcloud compute instances create @",
    "gcloud container clusters resize @ --num-nodes 3",
    "aws s3 cp a s3://@",
    "az vm restart -n @",
    "gsutil cp a gs://@",
    "ceph osd pool set @ size 3",
    "consul kv put @ y",
    "vault kv put @ a=1",
    "etcdctl put @ y",
    "amtool silence add alertname=@",
    "openssl genrsa -out @.key 2048",
    "openssl req -new -key a.key -out @.csr",
    "tcpdump -i any -w @.pcap",
    "sysctl -w net.core.somaxconn=@",
    "route add default gw @",
    "date -s @",
    "iptables -A INPUT -s @ -j DROP",
    "crontab @",
    "psql -c 'UPDATE @ SET a = 1'",
    "redis-cli SET @ 1",
    "redis-cli CONFIG SET maxmemory @",
    "docker restart @",
    "pip install @",
    "apt-get install -y @",
    "nodetool repair @",
    "virtctl migrate @",
    "perl -pi -e s/a/b/ @",
    "sort -o @ @",
    "gsort --parallel=8 @ -o @",
    "uniq in.txt @",
    "sysctl -p /etc/sysctl.d/@.conf",
    "mktemp -d",
    "http POST https://@/api a=1",
    "http https://@/api a=1",
    "oc adm uncordon @",
    "oc adm policy add-cluster-role-to-user admin @",
    "oc adm upgrade --to-latest",
    "etcdctl defrag",
    "loginctl enable-linger @",
    "promtool tsdb create-blocks-from openmetrics @ out",
    "nvidia-smi -pm 1",
    "toolbox -q tee @",
    "chroot /host systemctl restart @",
    "bundle exec knife node delete @ -y",
    "env FOO=1 cp a @",
];

/// Ways runbooks hand a command to something that runs it.
const WRAPPERS: &[&str] = &[
    "{}",
    "sudo {}",
    "sudo -u postgres {}",
    "ssh db1 '{}'",
    "bash -c '{}'",
    "time {}",
    "nice -n 10 {}",
    "nohup {}",
    "timeout 30 {}",
    "watch -n 5 '{}'",
];

const NAMES: &[&str] = &["data", "<name>", "{{host}}", "$NAME", "[name]", "YOUR_BUCKET", "web-1"];

fn build(command: &str, wrapper: &str, name: &str) -> String {
    // Quotes inside a single-quoted wrapper would end it: those commands go unwrapped.
    let inner = command.replace('@', name);
    if wrapper.contains("'{}'") && inner.contains('\'') {
        return inner;
    }
    wrapper.replace("{}", &inner)
}

/// Why `text` breaks the rule for `rule`'s list, if it does.
fn breaks(rule: &[&str], text: &str) -> Option<String> {
    let r = classify(text);
    if std::ptr::eq(rule, DESTROYS) && r.class != RiskClass::Destructive {
        return Some(format!("destroys but {:?}: {text:?} ({})", r.class, r.reason));
    }
    if std::ptr::eq(rule, WRITES) && r.class == RiskClass::ReadOnly {
        return Some(format!("writes but read-only: {text:?} ({})", r.reason));
    }
    None
}

/// Options that say nothing about what a command does.
const NEUTRAL_OPTIONS: &[&str] = &["", "--verbose ", "-v ", "--debug "];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Any tool, wrapper and placeholder form, with or without a neutral option after the
    /// program's name: the rules hold.
    #[test]
    fn neither_rule_bends_for_a_wrapper_a_placeholder_or_a_neutral_option(
        rule in proptest::sample::select(vec![DESTROYS, WRITES]),
        at in any::<proptest::sample::Index>(),
        wrapper in proptest::sample::select(WRAPPERS),
        name in proptest::sample::select(NAMES),
        option in proptest::sample::select(NEUTRAL_OPTIONS),
    ) {
        let command = at.get(rule);
        let with_option = match command.split_once(' ') {
            Some((program, rest)) if !program.starts_with('>') => format!("{program} {option}{rest}"),
            _ => command.to_string(),
        };
        let text = build(&with_option, wrapper, name);
        prop_assert!(breaks(rule, &text).is_none(), "{}", breaks(rule, &text).unwrap_or_default());
    }
}

/// Every combination once, so a failure names all the commands that break a rule.
#[test]
fn every_tool_wrapper_and_placeholder_combination_keeps_both_rules() {
    let mut wrong = Vec::new();
    for wrapper in WRAPPERS {
        for name in NAMES {
            for rule in [DESTROYS, WRITES] {
                wrong.extend(rule.iter().filter_map(|command| breaks(rule, &build(command, wrapper, name))));
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(wrong.is_empty(), "{} breaks:\n{}", wrong.len(), wrong.join("\n"));
}
