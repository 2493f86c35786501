"""Generate realistic, flattened Windows events as JSON lines for detection benchmarks.

The output imitates what a fleet of Windows hosts sends through winlogbeat or nxlog once
the EVTX structure is flattened: one JSON object per line, the System fields at the top
(``@timestamp``, ``EventID``, ``Channel``, ``Provider_Name``, ``Computer``,
``EventRecordID``, ``Version``, ``Level``, ``Task``, ``Opcode``, ``Keywords``) and the
EventData fields beside them under their Windows names (``Image``, ``CommandLine``,
``TargetObject``, ``ScriptBlockText``, ``TargetUserName``...). Sigma rules address exactly
these names, so the same file can be fed to any Sigma engine.

The mix follows a Sysmon-equipped Windows estate: Sysmon 1/3/5/7/10/11/12/13/22, Security
4624/4625/4634/4672/4688/4663/5145, System 7045 and PowerShell 4104. Values come from a
simulated estate (workstations and servers, their users, the processes running on them
with parents, command lines, hashes and logon sessions) built once from the seed: about
30,000 running processes with over 10,000 distinct command lines, and tens of thousands of
distinct file paths and registry keys. Files, keys and connections are made by processes
that plausibly make them (a browser's cache by the browser, Office traffic to Microsoft's
ranges), so the benign data stays mostly quiet under the SigmaHQ rules.

``--inject DIR`` reads every ``*.json`` file under DIR (nested EVTX-JSON events,
``{"Event": {"System": {...}, "EventData": {...}}}``, one or several per file, as in the
SigmaHQ ``regression_data`` folder), flattens each to the same layout and puts each one
``--copies`` times (default 5) at random positions, replacing generated events, so real
rules fire. The output has exactly ``--events`` lines.

The output depends only on the arguments (same seed, same bytes). Lines are written in
batches as they are produced, so memory stays flat whatever the size.

Usage::

    python benchmarks/gen_events.py --events 1000000 --out events.jsonl \\
        [--seed 1] [--inject sigma/regression_data] [--copies 5] \\
        [--start 2025-03-03T08:00:00Z] [--eps 40]
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import json
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from random import Random
from typing import Any

import orjson

Event = dict[str, Any]

SYSMON = ("Microsoft-Windows-Sysmon/Operational", "Microsoft-Windows-Sysmon")
SECURITY = ("Security", "Microsoft-Windows-Security-Auditing")
SYSTEM = ("System", "Service Control Manager")
POWERSHELL = ("Microsoft-Windows-PowerShell/Operational", "Microsoft-Windows-PowerShell")

SYS32 = "C:\\Windows\\System32"
PF = "C:\\Program Files"
PF86 = "C:\\Program Files (x86)"

FIRST_NAMES = (
    "james", "mary", "john", "patricia", "robert", "jennifer", "michael", "linda", "william",
    "elizabeth", "david", "barbara", "richard", "susan", "joseph", "jessica", "thomas", "sarah",
    "charles", "karen", "daniel", "nancy", "matthew", "lisa", "anthony", "betty", "mark",
    "margaret", "donald", "sandra", "steven", "ashley", "paul", "kimberly", "andrew", "emily",
    "joshua", "donna", "kenneth", "michelle", "kevin", "carol", "brian", "amanda", "george",
    "melissa", "timothy", "deborah", "ahmed", "fatima", "wei", "li", "yuki", "hiroshi", "olga",
    "ivan", "pierre", "amelie", "lukas", "sofia", "mateo", "lucia",
)
LAST_NAMES = (
    "smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "rodriguez",
    "martinez", "hernandez", "lopez", "gonzalez", "wilson", "anderson", "thomas", "taylor",
    "moore", "jackson", "martin", "lee", "perez", "thompson", "white", "harris", "sanchez",
    "clark", "ramirez", "lewis", "robinson", "walker", "young", "allen", "king", "wright",
    "scott", "torres", "nguyen", "hill", "flores", "green", "adams", "nelson", "baker", "hall",
    "rivera", "campbell", "mitchell", "carter", "roberts", "mueller", "schmidt", "dubois",
    "rossi", "kowalski", "novak", "tanaka", "sato", "kim", "chen",
)
DEPARTMENTS = ("FIN", "HR", "ENG", "MKT", "SAL", "OPS", "LEG", "IT", "RND", "SUP")
SERVER_ROLES = (
    "DC01", "DC02", "FS01", "FS02", "SQL01", "SQL02", "WEB01", "WEB02", "APP01", "APP02",
    "EXCH01", "PRINT01", "SCCM01", "WSUS01", "BACKUP01", "CA01", "RDS01", "RDS02", "JUMP01",
    "VPN01", "LOG01", "GIT01", "CI01", "CI02", "HV01", "HV02", "NAS01", "MON01", "DEV01", "FTP01",
)
DOMAIN = "CORP"
DNS_SUFFIX = "corp.example.com"

DOC_WORDS = (
    "Budget", "Forecast", "Report", "Invoice", "Contract", "Proposal", "Roadmap", "Minutes",
    "Agenda", "Review", "Summary", "Plan", "Policy", "Timesheet", "Expenses", "Payroll",
    "Onboarding", "Offboarding", "Audit", "Inventory", "Pricing", "Quote", "Statement",
    "Presentation", "Design", "Spec", "Requirements", "Architecture", "Notes", "Draft", "Final",
    "Q1", "Q2", "Q3", "Q4", "2023", "2024", "2025", "Customer", "Vendor", "Partner", "Project",
    "Sprint", "Release", "Incident",
)
DOC_EXT = ("docx", "xlsx", "pptx", "pdf", "txt", "csv", "vsdx", "png", "jpg", "zip")
DOC_DIRS = (
    "Documents", "Desktop", "Downloads", "OneDrive - Corp\\Documents", "Documents\\Projects",
    "OneDrive - Corp\\Shared", "Documents\\Archive",
)
OFFICE_EXT = ("docx", "docx", "xlsx", "xlsx", "pptx", "pdf", "csv")
PREFETCH_EXES = (
    "CHROME.EXE", "MSEDGE.EXE", "OUTLOOK.EXE", "WINWORD.EXE", "EXCEL.EXE", "TEAMS.EXE",
    "SVCHOST.EXE", "CONHOST.EXE", "DLLHOST.EXE", "RUNTIMEBROKER.EXE", "BACKGROUNDTASKHOST.EXE",
    "SEARCHPROTOCOLHOST.EXE", "TASKHOSTW.EXE", "ONEDRIVE.EXE", "CODE.EXE", "GIT.EXE",
)
SERVICES = (
    "wuauserv", "BITS", "Dnscache", "LanmanWorkstation", "LanmanServer", "W32Time", "Spooler",
    "WinDefend", "EventLog", "Schedule", "Themes", "AudioSrv", "Winmgmt", "CryptSvc",
    "DcomLaunch", "RpcSs", "TrkWks", "UsoSvc", "WSearch", "Dhcp", "NlaSvc", "netprofm",
    "iphlpsvc", "TermService", "SessionEnv", "UmRdpService", "gpsvc", "ProfSvc", "SENS",
    "ShellHWDetection", "StateRepository", "TokenBroker", "WpnService", "CDPSvc", "DiagTrack",
    "DPS", "WdiServiceHost", "BFE", "mpssvc", "PolicyAgent", "Appinfo", "seclogon",
    "wlidsvc", "DoSvc", "InstallService", "ClipSVC", "AppXSvc", "sppsvc", "edgeupdate",
    "gupdate", "MSSQLSERVER", "SQLSERVERAGENT", "W3SVC", "WAS", "NTDS", "DNS", "DFSR", "Netlogon",
)
SVC_GROUPS = (
    "netsvcs", "LocalServiceNetworkRestricted", "LocalSystemNetworkRestricted", "NetworkService",
    "LocalService", "DcomLaunch", "RPCSS", "UnistackSvcGroup", "appmodel", "wsappx",
    "LocalServiceNoNetworkFirewall", "utcsvc", "imgsvc", "ClipboardSvcGroup",
)
TASKS = (
    "GoogleUpdateTaskMachineUA", "MicrosoftEdgeUpdateTaskMachineCore", "OneDrive Standalone "
    "Update Task", "Adobe Acrobat Update Task", "\\Microsoft\\Windows\\Defrag\\ScheduledDefrag",
    "\\Microsoft\\Windows\\WindowsUpdate\\Scheduled Start", "BackupNightly", "InventoryScan",
    "\\Microsoft\\Office\\Office Automatic Updates 2.0", "CorpLogonScript", "ZoomUpdate",
)
PY_PACKAGES = (
    "requests", "numpy", "pandas", "flask", "django", "pytest", "boto3", "pyyaml", "rich",
    "black", "mypy", "polars", "sqlalchemy", "fastapi", "uvicorn", "httpx", "pydantic", "click",
)
NPM_SCRIPTS = ("build", "test", "lint", "start", "dev", "watch", "typecheck", "format")
GIT_CMDS = (
    "fetch origin", "pull --rebase origin main", "status --porcelain", "log --oneline -n 20",
    "push origin HEAD", "checkout -b feature/{n}", "diff --stat", "rev-parse HEAD",
    "submodule update --init", "commit -m \"fix #{n}\"", "clone https://{gitdom}/{repo}.git",
)
REPOS = (
    "billing-service", "web-portal", "infra-terraform", "data-pipeline", "mobile-app",
    "auth-gateway", "reporting", "ml-models", "docs-site", "hr-tools", "inventory-api",
)
EXT_DOMAINS = (
    "microsoft.com", "windowsupdate.com", "office.com", "office365.com", "live.com",
    "msftncsi.com", "microsoftonline.com", "azureedge.net", "azure.com", "bing.com",
    "google.com", "googleapis.com", "gstatic.com", "youtube.com", "github.com",
    "githubusercontent.com", "slack.com", "slack-edge.com", "zoom.us", "akamaiedge.net",
    "akamaihd.net", "cloudfront.net", "amazonaws.com", "digicert.com", "globalsign.com",
    "adobe.com", "dropbox.com", "salesforce.com", "atlassian.net", "okta.com", "linkedin.com",
    "mozilla.org", "python.org", "pypi.org", "npmjs.org", "docker.io", "spotify.com",
    "wikipedia.org", "stackoverflow.com", "cloudflare.com", "apple.com", "icloud.com",
)
SUBDOMAINS = (
    "www", "api", "login", "cdn", "static", "update", "download", "ocsp", "crl", "telemetry",
    "v10.events", "settings-win", "edge", "mail", "outlook", "teams", "graph", "cloud",
    "assets", "images", "auth", "sso", "app", "eu", "us-east-1", "s3", "media", "config",
)
INSTALLERS = (
    "ZoomInstallerFull", "GoogleChromeStandaloneEnterprise64", "SlackSetup", "npp.8.6.Installer",
    "AcroRdrDC2300820470_en_US", "VSCodeUserSetup-x64-1.89.1", "Git-2.45.1-64-bit",
    "python-3.12.3-amd64", "7z2404-x64", "TeamsSetup_c_w_", "FirefoxSetup125.0",
)
DLLS = (
    "ntdll.dll", "kernel32.dll", "KernelBase.dll", "user32.dll", "advapi32.dll", "combase.dll",
    "ole32.dll", "oleaut32.dll", "rpcrt4.dll", "sechost.dll", "crypt32.dll", "bcrypt.dll",
    "bcryptprimitives.dll", "ws2_32.dll", "wininet.dll", "winhttp.dll", "dnsapi.dll",
    "iphlpapi.dll", "shell32.dll", "shlwapi.dll", "msvcrt.dll", "ucrtbase.dll", "gdi32.dll",
    "gdi32full.dll", "win32u.dll", "uxtheme.dll", "dwmapi.dll", "propsys.dll",
    "windows.storage.dll", "profapi.dll", "powrprof.dll", "cryptbase.dll", "cryptsp.dll",
    "rsaenh.dll", "ncrypt.dll", "ntasn1.dll", "sspicli.dll", "msasn1.dll", "wintrust.dll",
    "imagehlp.dll", "version.dll", "msctf.dll", "clbcatq.dll", "mswsock.dll", "nsi.dll",
    "netapi32.dll", "wkscli.dll", "srvcli.dll", "userenv.dll", "wldp.dll", "kernel.appcore.dll",
    "SHCore.dll", "imm32.dll", "comctl32.dll", "setupapi.dll", "cfgmgr32.dll", "devobj.dll",
    "winsta.dll", "wtsapi32.dll", "dbghelp.dll", "dbgcore.dll", "amsi.dll", "mscoree.dll",
    "secur32.dll", "schannel.dll", "mskeyprotect.dll", "dpapi.dll", "gpapi.dll", "msi.dll",
    "taskschd.dll", "wevtapi.dll", "samcli.dll", "logoncli.dll", "netutils.dll", "edputil.dll",
    "urlmon.dll", "iertutil.dll", "winnsi.dll", "fwpuclnt.dll", "rasadhlp.dll", "vcruntime140.dll",
    "msvcp140.dll", "d3d11.dll", "dxgi.dll", "d3d12.dll", "mfplat.dll", "xmllite.dll",
)
DOTNET_DLLS = (
    "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\clr.dll",
    "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\clrjit.dll",
    "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\mscoreei.dll",
    "C:\\Windows\\assembly\\NativeImages_v4.0.30319_64\\mscorlib\\{hex32}\\mscorlib.ni.dll",
    "C:\\Windows\\assembly\\NativeImages_v4.0.30319_64\\System\\{hex32}\\System.ni.dll",
    "C:\\Windows\\assembly\\NativeImages_v4.0.30319_64\\System.Core\\{hex32}\\System.Core.ni.dll",
    "C:\\Windows\\assembly\\NativeImages_v4.0.30319_64\\System.Xml\\{hex32}\\System.Xml.ni.dll",
)
LSASS_ACCESS = ("0x1000", "0x1000", "0x1400", "0x101000", "0x100000")
GRANTED_ACCESS = (
    "0x1000", "0x1000", "0x1400", "0x1410", "0x101000", "0x101400", "0x100000", "0x40",
    "0x1fffff", "0x3000", "0x2000", "0x401", "0x1478",
)
PS_SNIPPETS = (
    "Get-ChildItem -Path '{docdir}' -Filter *.{ext} -Recurse | Select-Object FullName, Length",
    "$services = Get-Service | Where-Object { $_.Status -eq 'Running' }\n$services.Count",
    "Import-Module ActiveDirectory\nGet-ADUser -Identity '{user}' -Properties LastLogonDate",
    "Get-WinEvent -LogName System -MaxEvents {n2} | Where-Object Level -le 3",
    "Test-NetConnection -ComputerName {host} -Port 443 -InformationLevel Quiet",
    "$cred = Get-StoredCredential -Target '{host}'\nEnter-PSSession -ComputerName {host}",
    "Get-Counter '\\Memory\\Available MBytes' -SampleInterval 5 -MaxSamples {n2}",
    "Set-Location '{docdir}'\n& git {gitcmd}",
    "function Get-DiskReport {\n    param([string]$Computer = '{host}')\n"
    "    Get-CimInstance -ClassName Win32_LogicalDisk -ComputerName $Computer |\n"
    "        Select-Object DeviceID, @{n='FreeGB';e={[math]::Round($_.FreeSpace/1GB,1)}}\n}",
    "$cfg = Get-Content '{docdir}\\{repo}\\config.json' -Raw | ConvertFrom-Json",
    "Copy-Item -Path '{docdir}\\{doc}' -Destination '{share}\\{user}' -Force",
    "Get-ItemProperty 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*' |"
    " Select-Object DisplayName, DisplayVersion",
    "Restart-Service -Name {svc} -Force",
    "$PSVersionTable.PSVersion",
    "prompt",
    "Get-Content '{home}\\AppData\\Local\\Temp\\{hex8}.log' -Tail {n2}",
    "Write-Host \"Deploying build {n} to {host}\"\nStart-Sleep -Seconds {n2}",
    "Get-ScheduledTask -TaskName '{task}' | Get-ScheduledTaskInfo",
    "[System.Net.Dns]::GetHostAddresses('{host}.corp.example.com')",
    "$ErrorActionPreference = 'Stop'\nSet-StrictMode -Version Latest",
    "Get-ChildItem Env: | Sort-Object Name",
    "Update-Help -Module Microsoft.PowerShell.* -ErrorAction SilentlyContinue",
    "Get-NetIPConfiguration | Format-List",
    "Get-HotFix | Sort-Object InstalledOn -Descending | Select-Object -First 5",
    "Compress-Archive -Path '{docdir}\\*' -DestinationPath '{home}\\Desktop\\backup_{n}.zip'",
)


# --------------------------------------------------------------------------- templating

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _pick(r: Random, seq: Sequence[Any]) -> Any:
    """``r.choice`` without its overhead (the slight bias is irrelevant here)."""
    return seq[int(r.random() * len(seq))]


def _rint(r: Random, lo: int, hi: int) -> int:
    """``r.randint`` without its overhead."""
    return lo + int(r.random() * (hi - lo + 1))


class Filler:
    """Expands ``{name}`` placeholders with values drawn from the estate."""

    def __init__(self, rng: Random, hosts: list[str]) -> None:
        self.rng = rng
        self.hosts = hosts
        r = rng
        self.funcs: dict[str, Callable[[dict[str, str]], str]] = {
            "n": lambda c: str(_rint(r, 1, 9999)),
            "n2": lambda c: str(_rint(r, 2, 60)),
            "n4": lambda c: str(_rint(r, 1000, 9999)),
            "n7": lambda c: str(_rint(r, 1000000, 9999999)),
            "n19": lambda c: str(r.getrandbits(63)),
            "hex2": lambda c: f"{r.getrandbits(8):02x}",
            "hex6": lambda c: f"{r.getrandbits(24):06x}",
            "hex8": lambda c: f"{r.getrandbits(32):08x}",
            "tmpname": lambda c: f"{_pick(r, ('', '~', 'tmp', '~DF'))}{r.getrandbits(32):08X}."
            f"{_pick(r, ('tmp', 'tmp', 'log', 'dat', 'etl'))}",
            "officedoc": lambda c: self.doc(OFFICE_EXT),
            "prefetch": lambda c: f"{_pick(r, PREFETCH_EXES)}-{r.getrandbits(32):08X}.pf",
            "hex16": lambda c: f"{r.getrandbits(64):016X}",
            "hex32": lambda c: f"{r.getrandbits(128):032x}",
            "guid": lambda c: self.guid(),
            "user": lambda c: c["user"],
            "home": lambda c: f"C:\\Users\\{c['user']}",
            "docdir": lambda c: self.docdir(c["user"]),
            "doc": lambda c: self.doc(),
            "ext": lambda c: _pick(r, DOC_EXT),
            "host": lambda c: _pick(r, hosts),
            "ip": lambda c: f"10.{_rint(r, 1, 40)}.{_rint(r, 0, 255)}.{_rint(r, 1, 254)}",
            "port": lambda c: str(_pick(r, (22, 80, 443, 445, 1433, 3389, 5985, 8080, 8443))),
            "extdom": lambda c: _pick(r, EXT_DOMAINS),
            "url": lambda c: self.url(),
            "svc": lambda c: _pick(r, SERVICES),
            "svcgroup": lambda c: _pick(r, SVC_GROUPS),
            "task": lambda c: _pick(r, TASKS),
            "share": lambda c: f"\\\\FS0{_rint(r, 1, 2)}.{DNS_SUFFIX}\\{_pick(r, DEPARTMENTS)}",
            "pkg": lambda c: _pick(r, PY_PACKAGES),
            "ver": lambda c: f"{_rint(r, 0, 5)}.{_rint(r, 0, 30)}.{_rint(r, 0, 20)}",
            "npm": lambda c: _pick(r, NPM_SCRIPTS),
            "repo": lambda c: _pick(r, REPOS),
            "gitdom": lambda c: _pick(r, ("github.com", f"git01.{DNS_SUFFIX}")),
            "gitcmd": lambda c: self.fill(_pick(r, GIT_CMDS), c),
            "installer": lambda c: _pick(r, INSTALLERS),
            "kb": lambda c: f"KB{_rint(r, 5000000, 5039999)}",
            "lang": lambda c: _pick(r, ("en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "ja-JP")),
            "sid": lambda c: c.get("sid", "S-1-5-18"),
            "session": lambda c: str(_rint(r, 1, 4)),
        }

    def guid(self) -> str:
        h = f"{self.rng.getrandbits(128):032X}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def docdir(self, user: str) -> str:
        sub = _pick(self.rng, DOC_DIRS)
        return f"C:\\Users\\{user}\\{sub}"

    def doc(self, extensions: Sequence[str] = DOC_EXT) -> str:
        r = self.rng
        words = r.sample(DOC_WORDS, _rint(r, 1, 3))
        sep = _pick(r, (" ", "_", "-"))
        suffix = _pick(r, ("", "", f" ({_rint(r, 1, 5)})", f"_v{_rint(r, 1, 9)}", "_final"))
        return f"{sep.join(words)}{suffix}.{_pick(r, extensions)}"

    def url(self) -> str:
        r = self.rng
        path = "/".join(r.sample(("app", "api", "v2", "docs", "files", "login", "dl", "s"), 2))
        host = f"{_pick(r, SUBDOMAINS)}.{_pick(r, EXT_DOMAINS)}"
        return f"https://{host}/{path}?id={_rint(r, 1, 99999)}"

    def fill(self, template: str, ctx: dict[str, str]) -> str:
        funcs = self.funcs

        def sub(m: re.Match[str]) -> str:
            f = funcs.get(m.group(1))
            return f(ctx) if f else m.group(0)

        return _PLACEHOLDER.sub(sub, template)


# --------------------------------------------------------------------------- processes

# key: (image, OriginalFileName, Description, Product, Company, account, integrity,
#       parents, command-line templates, instances per workstation)
# account: user | system | netsvc | locsvc
_MS = ("Microsoft® Windows® Operating System", "Microsoft Corporation")
_OFF = ("Microsoft Office", "Microsoft Corporation")
ProcSpec = tuple[str, str, str, str, str, str, str, tuple[str, ...], tuple[str, ...], float]

PROCS: dict[str, ProcSpec] = {
    "explorer": (
        "C:\\Windows\\explorer.exe", "EXPLORER.EXE", "Windows Explorer", *_MS, "user",
        "Medium", ("userinit",), ("C:\\Windows\\Explorer.EXE",), 1,
    ),
    "userinit": (
        f"{SYS32}\\userinit.exe", "USERINIT.EXE", "Userinit Logon Application", *_MS, "user",
        "Medium", ("winlogon",), (f"{SYS32}\\userinit.exe",), 0.2,
    ),
    "winlogon": (
        f"{SYS32}\\winlogon.exe", "WINLOGON.EXE", "Windows Logon Application", *_MS, "system",
        "System", ("smss",), ("winlogon.exe",), 0.3,
    ),
    "smss": (
        f"{SYS32}\\smss.exe", "smss.exe", "Windows Session Manager", *_MS, "system", "System",
        ("system",), ("\\SystemRoot\\System32\\smss.exe", "\\SystemRoot\\System32\\smss.exe "
                      "000000{n2} 0000008{n2}"), 0.3,
    ),
    "services": (
        f"{SYS32}\\services.exe", "services.exe", "Services and Controller app", *_MS, "system",
        "System", ("wininit",), (f"{SYS32}\\services.exe",), 0.3,
    ),
    "wininit": (
        f"{SYS32}\\wininit.exe", "wininit.exe", "Windows Start-Up Application", *_MS, "system",
        "System", ("smss",), ("wininit.exe",), 0.2,
    ),
    "lsass": (
        f"{SYS32}\\lsass.exe", "lsass.exe", "Local Security Authority Process", *_MS, "system",
        "System", ("wininit",), (f"{SYS32}\\lsass.exe",), 0.3,
    ),
    "csrss": (
        f"{SYS32}\\csrss.exe", "CSRSS.Exe", "Client Server Runtime Process", *_MS, "system",
        "System", ("smss",), ("%SystemRoot%\\system32\\csrss.exe ObjectDirectory=\\Windows "
                              "SharedSection=1024,20480,768 Windows=On SubSystemType=Windows "
                              "ServerDll=basesrv,1 ServerDll=winsrv:UserServerDllInitialization,3"
                              " ServerDll=sxssrv,4 ProfileControl=Off MaxRequestThreads=16",),
        0.3,
    ),
    "svchost": (
        f"{SYS32}\\svchost.exe", "svchost.exe", "Host Process for Windows Services", *_MS,
        "system", "System", ("services",),
        (f"{SYS32}\\svchost.exe -k {{svcgroup}} -p -s {{svc}}",
         f"{SYS32}\\svchost.exe -k {{svcgroup}} -p", f"{SYS32}\\svchost.exe -k {{svcgroup}}"),
        12,
    ),
    "svchost_net": (
        f"{SYS32}\\svchost.exe", "svchost.exe", "Host Process for Windows Services", *_MS,
        "netsvc", "System", ("services",),
        (f"{SYS32}\\svchost.exe -k NetworkService -p -s {{svc}}",
         f"{SYS32}\\svchost.exe -k NetworkService -p"), 3,
    ),
    "svchost_loc": (
        f"{SYS32}\\svchost.exe", "svchost.exe", "Host Process for Windows Services", *_MS,
        "locsvc", "System", ("services",),
        (f"{SYS32}\\svchost.exe -k LocalService -p -s {{svc}}",
         f"{SYS32}\\svchost.exe -k LocalServiceNetworkRestricted -p"), 3,
    ),
    "runtimebroker": (
        f"{SYS32}\\RuntimeBroker.exe", "RuntimeBroker.exe", "Runtime Broker", *_MS, "user",
        "Medium", ("svchost",), (f"{SYS32}\\RuntimeBroker.exe -Embedding",), 2,
    ),
    "dllhost": (
        f"{SYS32}\\dllhost.exe", "dllhost.exe", "COM Surrogate", *_MS, "user", "Medium",
        ("svchost",), (f"{SYS32}\\DllHost.exe /Processid:{{{{guid}}}}",), 2,
    ),
    "taskhostw": (
        f"{SYS32}\\taskhostw.exe", "taskhostw.exe", "Host Process for Windows Tasks", *_MS,
        "user", "Medium", ("svchost",),
        ("taskhostw.exe {222A245B-E637-4AE9-A93F-A59CA119A75E}", "taskhostw.exe Install $(Arg0)",
         "taskhostw.exe -RegisterDevice -ProtectionStateChanged -FreeNetworkOnly"), 1,
    ),
    "sihost": (
        f"{SYS32}\\sihost.exe", "sihost.exe", "Shell Infrastructure Host", *_MS, "user",
        "Medium", ("svchost",), ("sihost.exe",), 0.3,
    ),
    "ctfmon": (
        f"{SYS32}\\ctfmon.exe", "CTFMON.EXE", "CTF Loader", *_MS, "user", "Medium",
        ("svchost",), ('"ctfmon.exe"',), 0.3,
    ),
    "conhost": (
        f"{SYS32}\\conhost.exe", "CONHOST.EXE", "Console Window Host", *_MS, "user", "Medium",
        ("cmd", "powershell", "git", "python"),
        ("\\??\\C:\\Windows\\system32\\conhost.exe 0x4",
         "\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1"), 3,
    ),
    "backgroundtaskhost": (
        f"{SYS32}\\backgroundTaskHost.exe", "backgroundTaskHost.exe", "Background Task Host",
        *_MS, "user", "Medium", ("svchost",),
        ('"C:\\Windows\\system32\\backgroundTaskHost.exe" -ServerName:BackgroundTaskHost.'
         "WebAccountProvider",
         '"C:\\Windows\\system32\\BackgroundTaskHost.exe" -ServerName:App.AppXmtcan0h2tfbfy7k9kn'
         "8hbxb6dmzz1zh0.mca"), 1,
    ),
    "searchprotocolhost": (
        f"{SYS32}\\SearchProtocolHost.exe", "SearchProtocolHost.exe",
        "Microsoft Windows Search Protocol Host", *_MS, "system", "System", ("searchindexer",),
        ('"C:\\Windows\\system32\\SearchProtocolHost.exe" Global\\UsGthrFltPipeMssGthrPipe{n2}_'
         " Global\\UsGthrCtrlFltPipeMssGthrPipe{n2} 1 -2147483646 \"Software\\Microsoft\\Windows"
         ' Search" "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT; MS Search 4.0 Robot)" '
         '"C:\\ProgramData\\Microsoft\\Search\\Data\\Temp\\usgthrsvc" "DownLevelDaemon"',), 1,
    ),
    "searchindexer": (
        f"{SYS32}\\SearchIndexer.exe", "SearchIndexer.exe", "Microsoft Windows Search Indexer",
        *_MS, "system", "System", ("services",), (f"{SYS32}\\SearchIndexer.exe /Embedding",),
        0.3,
    ),
    "wmiprvse": (
        f"{SYS32}\\wbem\\WmiPrvSE.exe", "Wmiprvse.exe", "WMI Provider Host", *_MS, "netsvc",
        "System", ("svchost",), (f"{SYS32}\\wbem\\wmiprvse.exe -secured -Embedding",
                                 f"{SYS32}\\wbem\\wmiprvse.exe -Embedding"), 1,
    ),
    "msmpeng": (
        "C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24040.4-0\\MsMpEng.exe",
        "MsMpEng.exe", "Antimalware Service Executable", *_MS, "system", "System",
        ("services",), ('"C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24040.4-0'
                        '\\MsMpEng.exe"',), 0.3,
    ),
    "mpcmdrun": (
        "C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24040.4-0\\MpCmdRun.exe",
        "MpCmdRun.exe", "Microsoft Malware Protection Command Line Utility", *_MS, "system",
        "System", ("msmpeng", "svchost"),
        ('"C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24040.4-0\\MpCmdRun.exe"'
         " SignaturesUpdateService -ScheduleJob -RestrictPrivileges",
         '"C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24040.4-0\\MpCmdRun.exe"'
         " -wdenable", "\"C:\\Program Files\\Windows Defender\\MpCmdRun.exe\" -IdleTask "
         "-TaskName WdCacheMaintenance"), 0.5,
    ),
    "smartscreen": (
        f"{SYS32}\\smartscreen.exe", "smartscreen.exe", "Windows Defender SmartScreen", *_MS,
        "user", "Medium", ("svchost",), (f"{SYS32}\\smartscreen.exe -Embedding",), 0.5,
    ),
    "tiworker": (
        "C:\\Windows\\WinSxS\\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.19041"
        ".4350_none_7dd5d0b1f0ceb1a9\\TiWorker.exe", "TiWorker.exe",
        "Windows Modules Installer Worker", *_MS, "system", "System", ("svchost",),
        ("C:\\Windows\\winsxs\\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0."
         "19041.4350_none_7dd5d0b1f0ceb1a9\\TiWorker.exe -Embedding",), 0.3,
    ),
    "msiexec": (
        f"{SYS32}\\msiexec.exe", "msiexec.exe", "Windows® installer", *_MS, "system", "System",
        ("services", "explorer"),
        (f"{SYS32}\\msiexec.exe /V", f"{SYS32}\\MsiExec.exe -Embedding {{hex16}} C",
         '"C:\\Windows\\System32\\msiexec.exe" /i "{home}\\Downloads\\{installer}.msi" /qn'
         " /norestart"), 0.5,
    ),
    "gpupdate": (
        f"{SYS32}\\gpupdate.exe", "GPUpdate.exe", "Microsoft® Windows Group Policy Update",
        *_MS, "user", "Medium", ("cmd", "svchost"),
        ("gpupdate /force", "gpupdate.exe /target:computer", "gpupdate /target:user /force"),
        0.3,
    ),
    "cmd": (
        f"{SYS32}\\cmd.exe", "Cmd.Exe", "Windows Command Processor", *_MS, "user", "Medium",
        ("explorer", "explorer", "explorer", "code", "powershell"),
        ('"C:\\Windows\\system32\\cmd.exe" ', "C:\\Windows\\system32\\cmd.exe /c dir /b *.{ext}",
         'cmd.exe /c copy "{docdir}\\{doc}" "{share}\\{user}\\"',
         "C:\\WINDOWS\\system32\\cmd.exe /d /s /c \"npm run {npm}\"",
         'C:\\Windows\\system32\\cmd.exe /c "git {gitcmd}"', "cmd /c ping -n 1 {host}",
         'cmd.exe /c "{home}\\scripts\\sync_{n}.bat"', "cmd.exe /c ipconfig /all",
         'C:\\Windows\\system32\\cmd.exe /c "python -m pytest tests\\test_{repo}.py -q"',
         "cmd.exe /c md \"{docdir}\\{n}\"", 'cmd.exe /c type "{docdir}\\notes_{n}.txt"',
         "C:\\Windows\\system32\\cmd.exe /c net use Z: {share} /persistent:yes"), 3,
    ),
    "powershell": (
        f"{SYS32}\\WindowsPowerShell\\v1.0\\powershell.exe", "PowerShell.EXE",
        "Windows PowerShell", *_MS, "user", "Medium", ("explorer", "explorer", "code"),
        ('"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe" ',
         "powershell.exe -NoProfile -Command \"Get-ChildItem -Path '{docdir}' -Recurse | "
         'Measure-Object"',
         '"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe" -NoLogo -File '
         '"{home}\\scripts\\Report-{repo}.ps1"',
         "powershell.exe -Command \"Get-Service {svc} | Select-Object Status\"",
         "powershell -Command \"Test-NetConnection {host} -Port {port}\"",
         'powershell.exe -NoProfile -Command "Get-Counter \'\\Processor(_Total)\\% '
         'Processor Time\' -MaxSamples {n2}"',
         '"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe" -NoExit -Command '
         "\"Set-Location '{docdir}'\"",
         "powershell.exe -Command \"Copy-Item '{docdir}\\{doc}' '{share}\\{user}'\""), 2,
    ),
    "pwsh": (
        f"{PF}\\PowerShell\\7\\pwsh.exe", "pwsh.dll", "pwsh", "PowerShell",
        "Microsoft Corporation", "user", "Medium", ("explorer", "code"),
        ('"C:\\Program Files\\PowerShell\\7\\pwsh.exe" -NoLogo',
         '"C:\\Program Files\\PowerShell\\7\\pwsh.exe" -File "{home}\\scripts\\deploy_{repo}.ps1"'
         " -Environment staging"), 0.5,
    ),
    "chrome": (
        f"{PF}\\Google\\Chrome\\Application\\chrome.exe", "chrome.exe", "Google Chrome",
        "Google Chrome", "Google LLC", "user", "Medium", ("explorer", "chrome"),
        ('"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe" ',
         '"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe" --type=renderer '
         "--renderer-client-id={n} --lang={lang} --field-trial-handle={n7},i,{n19},{n19},262144"
         " --mojo-platform-channel-handle={n4} /prefetch:1",
         '"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe" --type=utility '
         "--utility-sub-type=network.mojom.NetworkService --lang={lang} --service-sandbox-type"
         "=none --field-trial-handle={n7},i,{n19},{n19},262144 --mojo-platform-channel-handle="
         "{n4} /prefetch:8",
         '"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe" --type=gpu-process '
         "--gpu-preferences=UAAAAAAAAADgAAAMAAAAAAAAAAAAAAAAAABgAAEAAAA4AAAAAAAAAAAAAAAEAAAA"
         " --field-trial-handle={n7},i,{n19},{n19},262144 /prefetch:2",
         '"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe" "{url}"'), 8,
    ),
    "msedge": (
        f"{PF86}\\Microsoft\\Edge\\Application\\msedge.exe", "msedge.exe", "Microsoft Edge",
        "Microsoft Edge", "Microsoft Corporation", "user", "Medium", ("explorer", "msedge"),
        ('"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe" --type=renderer '
         "--instant-process --lang={lang} --js-flags=--ms-user-locale= --device-scale-factor=1"
         " --renderer-client-id={n} --mojo-platform-channel-handle={n4} /prefetch:1",
         '"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe" --type=utility '
         "--utility-sub-type=storage.mojom.StorageService --lang={lang} --service-sandbox-type"
         "=service --field-trial-handle={n7},i,{n19},{n19},262144 /prefetch:8",
         '"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe" --single-argument'
         " {url}"), 4,
    ),
    "firefox": (
        f"{PF}\\Mozilla Firefox\\firefox.exe", "firefox.exe", "Firefox", "Firefox",
        "Mozilla Corporation", "user", "Medium", ("explorer", "firefox"),
        ('"C:\\Program Files\\Mozilla Firefox\\firefox.exe" -contentproc --channel={n4} '
         "-childID {n2} -isForBrowser -prefsLen {n4} -prefMapSize 244787 -parentBuildID "
         '2024{n4}{n4} -greomni "C:\\Program Files\\Mozilla Firefox\\omni.ja" {n2} tab',
         '"C:\\Program Files\\Mozilla Firefox\\firefox.exe" -osint -url "{url}"'), 1,
    ),
    "outlook": (
        f"{PF}\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE", "Outlook.exe",
        "Microsoft Outlook", *_OFF, "user", "Medium", ("explorer",),
        ('"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE" ',
         '"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE" /recycle'), 1,
    ),
    "winword": (
        f"{PF}\\Microsoft Office\\root\\Office16\\WINWORD.EXE", "WinWord.exe",
        "Microsoft Word", *_OFF, "user", "Medium", ("explorer", "outlook"),
        ('"C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE" /n '
         '"{docdir}\\{doc}" /o ""',
         '"C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE" '), 2,
    ),
    "excel": (
        f"{PF}\\Microsoft Office\\root\\Office16\\EXCEL.EXE", "Excel.exe",
        "Microsoft Excel", *_OFF, "user", "Medium", ("explorer", "outlook"),
        ('"C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE" "{docdir}\\{doc}"',
         '"C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE" '), 2,
    ),
    "powerpnt": (
        f"{PF}\\Microsoft Office\\root\\Office16\\POWERPNT.EXE", "PowerPnt.exe",
        "Microsoft PowerPoint", *_OFF, "user", "Medium", ("explorer", "outlook"),
        ('"C:\\Program Files\\Microsoft Office\\root\\Office16\\POWERPNT.EXE" "{docdir}\\'
         '{doc}" /ou ""',), 1,
    ),
    "teams": (
        "C:\\Users\\{user}\\AppData\\Local\\Microsoft\\Teams\\current\\Teams.exe", "Teams.exe",
        "Microsoft Teams", "Microsoft Teams", "Microsoft Corporation", "user", "Medium",
        ("explorer", "teams"),
        ('"C:\\Users\\{user}\\AppData\\Local\\Microsoft\\Teams\\current\\Teams.exe" --type='
         "renderer --autoplay-policy=no-user-gesture-required --lang={lang} --app-path="
         '"C:\\Users\\{user}\\AppData\\Local\\Microsoft\\Teams\\current\\resources\\app.asar"'
         " --renderer-client-id={n} --mojo-platform-channel-handle={n4} /prefetch:1",
         '"C:\\Users\\{user}\\AppData\\Local\\Microsoft\\Teams\\current\\Teams.exe" '
         "--system-initiated"), 3,
    ),
    "onedrive": (
        "C:\\Users\\{user}\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe", "OneDrive.exe",
        "Microsoft OneDrive", "Microsoft OneDrive", "Microsoft Corporation", "user", "Medium",
        ("explorer",), ('"C:\\Users\\{user}\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe"'
                        " /background",), 1,
    ),
    "slack": (
        "C:\\Users\\{user}\\AppData\\Local\\slack\\app-4.38.125\\slack.exe", "slack.exe", "Slack",
        "Slack", "Slack Technologies, Inc.", "user", "Medium", ("explorer", "slack"),
        ('"C:\\Users\\{user}\\AppData\\Local\\slack\\app-4.38.125\\slack.exe" --type=renderer '
         "--user-data-dir=\"C:\\Users\\{user}\\AppData\\Roaming\\Slack\" --lang={lang} "
         "--renderer-client-id={n} /prefetch:1",
         '"C:\\Users\\{user}\\AppData\\Local\\slack\\slack.exe" --process-start-args '
         '--startup'), 1,
    ),
    "zoom": (
        "C:\\Users\\{user}\\AppData\\Roaming\\Zoom\\bin\\Zoom.exe", "Zoom.exe", "Zoom Meetings",
        "Zoom Meetings", "Zoom Video Communications, Inc.", "user", "Medium", ("explorer",),
        ('"C:\\Users\\{user}\\AppData\\Roaming\\Zoom\\bin\\Zoom.exe" "--url=zoommtg://zoom.us/'
         'join?action=join&confno={n7}{n4}&pwd={hex8}"',), 0.5,
    ),
    "code": (
        "C:\\Users\\{user}\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe", "electron.exe",
        "Visual Studio Code", "Visual Studio Code", "Microsoft Corporation", "user", "Medium",
        ("explorer", "code"),
        ('"C:\\Users\\{user}\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe" '
         '"{docdir}\\{repo}"',
         '"C:\\Users\\{user}\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe" --type='
         "utility --utility-sub-type=node.mojom.NodeService --lang={lang} --service-sandbox-"
         "type=none --field-trial-handle={n7},i,{n19},{n19},262144 /prefetch:8"), 1,
    ),
    "git": (
        f"{PF}\\Git\\mingw64\\bin\\git.exe", "git.exe", "Git for Windows", "Git",
        "The Git Development Community", "user", "Medium", ("cmd", "code", "powershell"),
        ("git.exe {gitcmd}", '"C:\\Program Files\\Git\\mingw64\\bin\\git.exe" -c '
         "core.quotepath=false -c color.ui=false {gitcmd}"), 1,
    ),
    "python": (
        "C:\\Users\\{user}\\AppData\\Local\\Programs\\Python\\Python312\\python.exe",
        "python.exe", "Python", "Python", "Python Software Foundation", "user", "Medium",
        ("cmd", "code", "powershell"),
        ("python.exe -m pip install {pkg}=={ver}", "python -m pytest -q tests/test_{repo}.py",
         '"C:\\Users\\{user}\\AppData\\Local\\Programs\\Python\\Python312\\python.exe" '
         '"{docdir}\\{repo}\\manage.py" runserver 0.0.0.0:8{n2}',
         "python.exe -m venv .venv"), 0.5,
    ),
    "node": (
        f"{PF}\\nodejs\\node.exe", "node.exe", "Node.js JavaScript Runtime", "Node.js",
        "Node.js", "user", "Medium", ("cmd", "code"),
        ('"C:\\Program Files\\nodejs\\node.exe" "C:\\Program Files\\nodejs\\node_modules\\npm\\'
         'bin\\npm-cli.js" run {npm}', '"C:\\Program Files\\nodejs\\node.exe" .\\node_modules\\'
         ".bin\\..\\vite\\bin\\vite.js --port 51{n2}"), 0.5,
    ),
    "acrobat": (
        f"{PF}\\Adobe\\Acrobat DC\\Acrobat\\Acrobat.exe", "Acrobat.exe", "Adobe Acrobat",
        "Adobe Acrobat", "Adobe Inc.", "user", "Medium", ("explorer", "outlook"),
        ('"C:\\Program Files\\Adobe\\Acrobat DC\\Acrobat\\Acrobat.exe" "{docdir}\\{doc}"',),
        0.5,
    ),
    "notepad": (
        f"{SYS32}\\notepad.exe", "NOTEPAD.EXE", "Notepad", *_MS, "user", "Medium", ("explorer",),
        ('"C:\\Windows\\system32\\NOTEPAD.EXE" "{docdir}\\notes_{n}.txt"',
         '"C:\\Windows\\System32\\notepad.exe" '), 0.5,
    ),
    "7zip": (
        f"{PF}\\7-Zip\\7z.exe", "7z.exe", "7-Zip Console", "7-Zip", "Igor Pavlov", "user",
        "Medium", ("cmd", "explorer", "powershell"),
        ('"C:\\Program Files\\7-Zip\\7z.exe" x "{home}\\Downloads\\{repo}-{n}.zip" -o"{docdir}'
         '"',), 0.2,
    ),
    "mstsc": (
        f"{SYS32}\\mstsc.exe", "mstsc.exe", "Remote Desktop Connection", *_MS, "user", "Medium",
        ("explorer",), ('"C:\\Windows\\system32\\mstsc.exe" /v:{host}',
                        '"C:\\Windows\\system32\\mstsc.exe" "{docdir}\\{host}.rdp"'), 0.3,
    ),
    "taskmgr": (
        f"{SYS32}\\Taskmgr.exe", "Taskmgr.exe", "Task Manager", *_MS, "user", "High",
        ("explorer",), ('"C:\\Windows\\system32\\taskmgr.exe" /{n2}',), 0.2,
    ),
    "ping": (
        f"{SYS32}\\PING.EXE", "ping.exe", "TCP/IP Ping Command", *_MS, "user", "Medium",
        ("cmd", "powershell"), ("ping -n 1 {host}", "ping {ip} -t", "ping -n 4 {extdom}"),
        0.3,
    ),
    "ipconfig": (
        f"{SYS32}\\ipconfig.exe", "ipconfig.exe", "IP Configuration Utility", *_MS, "user",
        "Medium", ("cmd",), ("ipconfig /all", "ipconfig /flushdns", "ipconfig"), 0.2,
    ),
    "nslookup": (
        f"{SYS32}\\nslookup.exe", "nslookup.exe", "nslookup", *_MS, "user", "Medium",
        ("cmd", "powershell"), ("nslookup {host}.corp.example.com", "nslookup {extdom}"),
        0.2,
    ),
    "schtasks": (
        f"{SYS32}\\schtasks.exe", "schtasks.exe", "Task Scheduler Configuration Tool", *_MS,
        "user", "Medium", ("cmd", "svchost"),
        ('schtasks.exe /query /tn "{task}" /fo LIST /v', "schtasks /query /fo CSV /nh"), 0.2,
    ),
    "sc": (
        f"{SYS32}\\sc.exe", "sc.exe", "Service Control Manager Configuration Tool", *_MS,
        "user", "Medium", ("cmd", "powershell"), ("sc.exe query {svc}", "sc queryex {svc}"),
        0.2,
    ),
    "net": (
        f"{SYS32}\\net.exe", "net.exe", "Net Command", *_MS, "user", "Medium", ("cmd",),
        ("net use Z: {share} /persistent:yes", "net use", "net time \\\\DC01"), 0.2,
    ),
    "reg": (
        f"{SYS32}\\reg.exe", "reg.exe", "Registry Console Tool", *_MS, "user", "Medium",
        ("cmd",), ('reg query "HKCU\\Software\\Microsoft\\Office\\16.0\\Outlook\\Profiles" /s',
                   'reg query "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion" /v '
                   "ProductName"), 0.1,
    ),
    "whoami": (
        f"{SYS32}\\whoami.exe", "whoami.exe", "whoami - displays logged on user information",
        *_MS, "user", "Medium", ("cmd",), ("whoami",), 0.02,
    ),
    "wuauclt": (
        f"{SYS32}\\wuauclt.exe", "wuauclt.exe", "Windows Update", *_MS, "system", "System",
        ("svchost",), ('"C:\\Windows\\system32\\wuauclt.exe" /UpdateDeploymentProvider UpdateDep'
                       "loymentProvider.dll /ClassId {{guid}} /RunHandlerComServer",), 0.2,
    ),
    "consent": (
        f"{SYS32}\\consent.exe", "consent.exe", "Consent UI for administrative applications",
        *_MS, "system", "System", ("svchost",), ("consent.exe {n4} 298 000001{n4}",), 0.1,
    ),
    "googleupdate": (
        f"{PF86}\\Google\\Update\\GoogleUpdate.exe", "GoogleUpdate.exe", "Google Installer",
        "Google Update", "Google LLC", "system", "System", ("svchost",),
        ('"C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe" /ua /installsource '
         "scheduler", '"C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe" /c'), 0.3,
    ),
    "onedrivestandalone": (
        "C:\\Users\\{user}\\AppData\\Local\\Microsoft\\OneDrive\\OneDriveStandaloneUpdater.exe",
        "OneDriveStandaloneUpdater.exe", "Standalone Updater", "Microsoft OneDrive",
        "Microsoft Corporation", "user", "Medium", ("svchost",),
        ('"C:\\Users\\{user}\\AppData\\Local\\Microsoft\\OneDrive\\OneDriveStandaloneUpdater.'
         'exe" /reporting',), 0.2,
    ),
    "spoolsv": (
        f"{SYS32}\\spoolsv.exe", "spoolsv.exe", "Spooler SubSystem App", *_MS, "system",
        "System", ("services",), (f"{SYS32}\\spoolsv.exe",), 0.2,
    ),
    "sqlservr": (
        f"{PF}\\Microsoft SQL Server\\MSSQL16.MSSQLSERVER\\MSSQL\\Binn\\sqlservr.exe",
        "sqlservr.exe", "SQL Server Windows NT - 64 Bit", "Microsoft SQL Server",
        "Microsoft Corporation", "netsvc", "High", ("services",),
        ('"C:\\Program Files\\Microsoft SQL Server\\MSSQL16.MSSQLSERVER\\MSSQL\\Binn\\sqlservr.'
         'exe" -sMSSQLSERVER',), 0,
    ),
    "w3wp": (
        f"{SYS32}\\inetsrv\\w3wp.exe", "w3wp.exe", "IIS Worker Process", *_MS, "netsvc",
        "High", ("svchost",),
        ('c:\\windows\\system32\\inetsrv\\w3wp.exe -ap "DefaultAppPool" -v "v4.0" -l "webengine'
         '4.dll" -a \\\\.\\pipe\\iisipm{guid} -h "C:\\inetpub\\temp\\apppools\\DefaultAppPool\\'
         'DefaultAppPool.config" -w "" -m 0 -t 20 -ta 0',), 0,
    ),
}
SERVER_PROCS = {"sqlservr": 2.0, "w3wp": 2.0, "svchost": 6.0, "lsass": 0.5, "services": 0.3,
                "wmiprvse": 1.0, "powershell": 1.0, "cmd": 1.0, "msmpeng": 0.3,
                "spoolsv": 0.2, "taskhostw": 0.5, "conhost": 1.0, "mstsc": 0.2, "whoami": 0.05}


# --------------------------------------------------------------------------- estate


class Estate:
    """Hosts, users and running processes, built deterministically from the seed."""

    def __init__(self, rng: Random, n_workstations: int = 240, processes_per_host: int = 100):
        self.rng = rng
        r = rng
        self.domain_sid = (
            f"S-1-5-21-{_rint(r, 10**9, 4 * 10**9)}-{_rint(r, 10**9, 4 * 10**9)}-"
            f"{_rint(r, 10**8, 4 * 10**9)}"
        )
        # users: one primary user per workstation, plus administrators for servers
        names: list[str] = []
        seen: set[str] = set()
        while len(names) < n_workstations + 20:
            f, last = _pick(r, FIRST_NAMES), _pick(r, LAST_NAMES)
            name = _pick(r, (f"{f}.{last}", f"{f[0]}{last}", f"{f}{last[0]}"))
            if name not in seen:
                seen.add(name)
                names.append(name)
        self.users = names[:n_workstations]
        self.admins = [f"adm-{n}" for n in names[n_workstations:]]
        self.user_sid = {u: f"{self.domain_sid}-{1100 + i}" for i, u in enumerate(names)}
        self.user_sid.update({f"adm-{n}": f"{self.domain_sid}-{5100 + i}"
                              for i, n in enumerate(names[n_workstations:])})
        self.workstations = [
            f"{_pick(r, DEPARTMENTS)}-{'LT' if r.random() < 0.6 else 'WS'}{i:04d}"
            for i in range(1, n_workstations + 1)
        ]
        self.servers = list(SERVER_ROLES)
        all_hosts = self.workstations + self.servers
        self.fqdn = {h: f"{h}.{DNS_SUFFIX}" for h in all_hosts}
        self.host_ip = {h: f"10.{10 + (i // 250)}.{i % 250 // 50 + 1}.{i % 50 + 10}"
                        for i, h in enumerate(all_hosts)}
        self.host_user = dict(zip(self.workstations, self.users, strict=True))
        self.filler = Filler(r, all_hosts)
        self._hashes: dict[str, str] = {}
        self.hosts = all_hosts
        self.procs: list[Event] = []
        self.by_host: dict[str, list[Event]] = {h: [] for h in all_hosts}
        self.system_procs: dict[str, dict[str, Event]] = {h: {} for h in all_hosts}
        for host in all_hosts:
            self._populate(host, processes_per_host)
        self.logon_ids: dict[str, list[str]] = {
            h: [f"0x{r.getrandbits(28):x}" for _ in range(12)] for h in all_hosts
        }

    # --- helpers

    def hashes(self, image: str) -> str:
        h = self._hashes.get(image)
        if h is None:
            b = image.lower().encode()
            h = (
                f"SHA1={hashlib.sha1(b).hexdigest().upper()},"
                f"MD5={hashlib.md5(b).hexdigest().upper()},"
                f"SHA256={hashlib.sha256(b).hexdigest().upper()},"
                f"IMPHASH={hashlib.md5(b[::-1]).hexdigest().upper()}"
            )
            self._hashes[image] = h
        return h

    def account(self, kind: str, host: str) -> tuple[str, str]:
        """(User as Sysmon writes it, SID) for an account kind on a host."""
        if kind == "system":
            return "NT AUTHORITY\\SYSTEM", "S-1-5-18"
        if kind == "netsvc":
            return "NT AUTHORITY\\NETWORK SERVICE", "S-1-5-20"
        if kind == "locsvc":
            return "NT AUTHORITY\\LOCAL SERVICE", "S-1-5-19"
        user = self.host_user.get(host) or _pick(self.rng, self.admins)
        return f"{DOMAIN}\\{user}", self.user_sid[user]

    def _populate(self, host: str, count: int) -> None:
        r = self.rng
        if host in self.host_user:
            keys = list(PROCS)
            weights = [PROCS[k][9] for k in keys]
        else:
            keys = list(SERVER_PROCS)
            weights = list(SERVER_PROCS.values())
        # one instance of each core system process first, so parents exist
        core = ("smss", "wininit", "services", "lsass", "csrss", "winlogon", "svchost",
                "msmpeng", "searchindexer")
        if host in self.host_user:
            core = (*core, "userinit", "explorer")
        for key in core:
            self.system_procs[host][key] = self._spawn(host, key)
        for key in r.choices(keys, weights=weights, k=count):
            self._spawn(host, key)

    def _spawn(self, host: str, key: str) -> Event:
        r = self.rng
        image, ofn, desc, product, company, kind, integrity, parents, cmds, _ = PROCS[key]
        user, sid = self.account(kind, host)
        short = user.split("\\", 1)[1]
        ctx = {"user": short if kind == "user" else (self.host_user.get(host) or "Public"),
               "sid": sid}
        fill = self.filler.fill
        image = fill(image, ctx)
        parent_key = _pick(r, parents)
        parent = self.system_procs[host].get(parent_key)
        if parent is None and parent_key in PROCS:
            pimage = fill(PROCS[parent_key][0], ctx)
            pcmd = fill(_pick(r, PROCS[parent_key][8]), ctx)
            pguid, ppid = "{" + self.filler.guid() + "}", 400 + 4 * int(r.random() * 7400)
            puser = self.account(PROCS[parent_key][5], host)[0]
        elif parent is None:  # System itself
            pimage, pcmd, pguid, ppid, puser = "System", "", "{00000000-0000-0000-0000-" \
                "000000000000}", 4, "NT AUTHORITY\\SYSTEM"
        else:
            pimage, pcmd = parent["Image"], parent["CommandLine"]
            pguid, ppid, puser = parent["ProcessGuid"], parent["ProcessId"], parent["User"]
        if integrity == "Medium" and kind == "user" and r.random() < 0.06:
            integrity = "High"
        major = _pick(r, ("10.0.19041", "10.0.22621", "10.0.26100"))
        proc: Event = {
            "Computer": self.fqdn[host],
            "Image": image,
            "FileVersion": f"{major}.{_rint(r, 1, 5000)} (WinBuild.160101.0800)"
            if company == "Microsoft Corporation"
            else f"{_rint(r, 1, 130)}.0.{_rint(r, 0, 9999)}.{_rint(r, 0, 300)}",
            "Description": desc,
            "Product": product,
            "Company": company,
            "OriginalFileName": ofn,
            "CommandLine": fill(_pick(r, cmds), ctx),
            "CurrentDirectory": self._cwd(kind, ctx),
            "User": user,
            "LogonGuid": "{" + self.filler.guid() + "}",
            "LogonId": "0x3e7" if kind == "system" else (
                "0x3e4" if kind == "netsvc" else "0x3e5" if kind == "locsvc"
                else f"0x{r.getrandbits(24):x}"),
            "TerminalSessionId": 0 if kind != "user" else _rint(r, 1, 3),
            "IntegrityLevel": integrity,
            "Hashes": self.hashes(image),
            "ParentProcessGuid": pguid,
            "ParentProcessId": ppid,
            "ParentImage": pimage,
            "ParentCommandLine": pcmd,
            "ParentUser": puser,
            "ProcessGuid": "{" + self.filler.guid() + "}",
            "ProcessId": 400 + 4 * int(r.random() * 9900),
            "_sid": sid,
            "_key": key,
            "_host": host,
        }
        self.procs.append(proc)
        self.by_host[host].append(proc)
        return proc

    def _cwd(self, kind: str, ctx: dict[str, str]) -> str:
        if kind != "user":
            return "C:\\Windows\\system32\\"
        return _pick(self.rng, (
            f"C:\\Users\\{ctx['user']}\\", "C:\\Windows\\system32\\",
            self.filler.docdir(ctx["user"]) + "\\",
        ))


# --------------------------------------------------------------------------- value pools


# Placeholders for the user name and SID of the process an event belongs to, filled in at
# event time so that a file under C:\Users\x or a key under HKU\<sid> matches the process.
OWNER = "\x00"
OWNER_SID = "\x01"
OWNER_JSON = "\\u0000"  # how they look once serialized
OWNER_SID_JSON = "\\u0001"

_OFFICE = ("winword", "excel", "powerpnt", "outlook")
_BROWSERS = ("chrome", "msedge", "firefox")
_USER_APPS = (*_OFFICE, *_BROWSERS, "teams", "code", "slack", "acrobat", "explorer", "onedrive")

# (weight, path template, processes that create such files)
FILE_TEMPLATES: tuple[tuple[float, str, tuple[str, ...]], ...] = (
    (3.0, "{home}\\AppData\\Local\\Temp\\{tmpname}", _USER_APPS),
    (1.5, "{docdir}\\{officedoc}", (*_OFFICE, "explorer")),
    (0.8, "{docdir}\\{doc}", ("explorer", *_BROWSERS)),
    (1.0, "C:\\Windows\\Prefetch\\{prefetch}", ("svchost",)),
    (1.2, "{home}\\AppData\\Local\\Google\\Chrome\\User Data\\Default\\Cache\\Cache_Data\\"
     "f_{hex6}", ("chrome",)),
    (0.8, "{home}\\AppData\\Local\\Microsoft\\Edge\\User Data\\Default\\Code Cache\\js\\"
     "{hex16}_0", ("msedge",)),
    (0.3, "{home}\\AppData\\Local\\Microsoft\\Windows\\INetCache\\Content.Outlook\\{hex8}\\"
     "{officedoc}", ("outlook",)),
    (0.7, "{home}\\AppData\\Roaming\\Microsoft\\Teams\\Service Worker\\CacheStorage\\{hex32}"
     "\\{hex8}_0", ("teams",)),
    (0.5, "{home}\\AppData\\Local\\Microsoft\\Outlook\\RoamCache\\Stream_Autocomplete_0_"
     "{hex32}.dat", ("outlook",)),
    (0.3, "{home}\\AppData\\Local\\Microsoft\\OneDrive\\logs\\Business1\\SyncEngine-{n}.odl",
     ("onedrive",)),
    (0.1, "C:\\Windows\\SoftwareDistribution\\Download\\{hex32}\\{kb}.cab", ("svchost",)),
    (0.2, "C:\\Windows\\Temp\\{{{guid}}}\\setup.log", ("msiexec", "tiworker")),
    (0.1, "C:\\ProgramData\\Microsoft\\Windows Defender\\Scans\\History\\Service\\"
     "DetectionHistory\\{n2}\\{guid}", ("msmpeng",)),
    (0.3, "C:\\Windows\\System32\\LogFiles\\WMI\\RtBackup\\EtwRT.{svc}.etl", ("svchost",)),
    (0.3, "C:\\Windows\\ServiceProfiles\\NetworkService\\AppData\\Local\\Microsoft\\Windows\\"
     "DeliveryOptimization\\Cache\\{hex32}", ("svchost_net",)),
    (0.1, "{home}\\Downloads\\{installer}.exe", _BROWSERS),
    (0.5, "{home}\\Documents\\{repo}\\src\\{pkg}_{n}.py", ("code", "git")),
    (0.3, "{home}\\Documents\\{repo}\\node_modules\\.cache\\{hex8}.json", ("node",)),
    (0.5, "{home}\\AppData\\Roaming\\Microsoft\\Windows\\Recent\\{officedoc}.lnk",
     ("explorer",)),
    (0.5, "{home}\\Documents\\{repo}\\.git\\objects\\{hex2}\\{hex32}", ("git",)),
    (0.2, "{home}\\AppData\\Local\\pip\\cache\\http\\{hex2}\\{hex8}\\{hex32}", ("python",)),
)

# (weight, key template, value data kind, processes that write it)
REG_TEMPLATES: tuple[tuple[float, str, str, tuple[str, ...]], ...] = (
    (3.0, "HKU\\{sid}\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\RecentDocs\\."
     "{ext}\\{n2}", "binary", ("explorer",)),
    (2.0, "HKU\\{sid}\\Software\\Microsoft\\Office\\16.0\\Common\\Roaming\\Identities\\{hex32}"
     "_ADAL\\LastSwitchedTime", "qword", _OFFICE),
    (2.0, "HKU\\{sid}\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\UserAssist\\"
     "{CEBFF5CD-ACE2-4F4F-9178-9926F41749EA}\\Count\\HRZR_PGYFRFFVBA", "binary", ("explorer",)),
    (1.0, "HKU\\{sid}\\Software\\Microsoft\\Windows\\CurrentVersion\\CloudStore\\Store\\Cache\\"
     "DefaultAccount\\$de${hex16}\\Current\\Data", "binary", ("explorer",)),
    (1.0, "HKU\\{sid}\\Software\\Classes\\Local Settings\\Software\\Microsoft\\Windows\\Shell\\"
     "Bags\\{n2}\\Shell\\{{guid}}\\Mode", "dword", ("explorer",)),
    (2.0, "HKU\\{sid}\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\FeatureUsage\\"
     "AppSwitched\\{hex8}", "dword", ("explorer",)),
    (1.0, "HKLM\\System\\CurrentControlSet\\Services\\bam\\State\\UserSettings\\{sid}\\"
     "\\Device\\HarddiskVolume3\\Windows\\System32\\{svc}.exe", "binary", ("svchost",)),
    (0.5, "HKLM\\System\\CurrentControlSet\\Services\\Tcpip\\Parameters\\Interfaces\\{{guid}}"
     "\\DhcpIPAddress", "ip", ("svchost",)),
    (0.5, "HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Signature Updates\\"
     "SignaturesLastUpdated", "binary", ("msmpeng",)),
    (0.3, "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Orchestrator\\"
     "UScheduler\\{n4}\\updateStartTime", "qword", ("svchost", "tiworker")),
    (1.0, "HKLM\\SOFTWARE\\Microsoft\\Tracing\\{svc}_RASAPI32\\EnableFileTracing", "zero",
     ("svchost",)),
    (0.3, "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Installer\\UserData\\S-1-5-18\\"
     "Components\\{hex32}\\{hex32}", "path", ("msiexec",)),
    (1.0, "HKU\\{sid}\\Software\\Google\\Chrome\\PreferenceMACs\\Default\\{hex8}", "string",
     ("chrome",)),
    (0.5, "HKU\\{sid}\\Software\\Microsoft\\OneDrive\\Accounts\\Business1\\LastSignInTime",
     "qword", ("onedrive",)),
    (0.3, "HKU\\{sid}\\Software\\Microsoft\\Office\\Teams\\LoggedInOnce", "dword", ("teams",)),
    (0.5, "HKU\\{sid}\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\ComDlg32\\"
     "OpenSavePidlMRU\\{ext}\\{n2}", "binary", (*_OFFICE, "acrobat", "notepad")),
    (0.3, "HKU\\{sid}\\Software\\Microsoft\\VisualStudio\\Telemetry\\{hex8}", "dword",
     ("code",)),
)

# Destinations by kind: domain names, and the address ranges their owners announce
DOMAIN_GROUPS = {
    "ms": (("microsoft.com", "windowsupdate.com", "office.com", "office365.com", "live.com",
            "msftncsi.com", "microsoftonline.com", "azureedge.net", "azure.com", "bing.com",
            "msedge.net", "skype.com", "sharepoint.com", "teams.microsoft.com"),
           ("13.107.{ms13}.{b}", "20.{ms20}.{a}.{b}", "52.{ms52}.{a}.{b}", "40.{ms40}.{a}.{b}")),
    "google": (("google.com", "googleapis.com", "gstatic.com", "googleusercontent.com"),
               ("142.250.{a}.{b}", "172.217.{a}.{b}")),
    "dev": (("github.com", "pypi.org", "python.org", "npmjs.org", "stackoverflow.com",
             "docker.io", "nodejs.org"), ("140.82.{c}.{b}", "151.101.{a}.{b}")),
    "saas": (("slack.com", "slack-edge.com", "zoom.us", "salesforce.com", "atlassian.net",
              "okta.com", "linkedin.com", "adobe.com", "spotify.com", "wikipedia.org",
              "apple.com", "mozilla.org", "mozilla.net"),
             ("3.{a}.{a}.{b}", "34.{a}.{a}.{b}", "104.18.{a}.{b}", "185.{a}.{a}.{b}")),
    "cdn": (("akamaiedge.net", "akamaihd.net", "cloudfront.net", "amazonaws.com",
             "cloudflare-dns.com", "digicert.com", "globalsign.com", "fastly.net"),
            ("23.{a}.{a}.{b}", "13.224.{a}.{b}", "104.16.{a}.{b}", "93.184.{a}.{b}")),
}
# Per process: (port, destination kind) of its connections; "<" marks inbound ones
NET_PROFILES: dict[str, tuple[tuple[int, str], ...]] = {
    "chrome": ((443, "google"), (443, "any"), (443, "any"), (443, "cdn"), (80, "cdn")),
    "msedge": ((443, "ms"), (443, "any"), (443, "cdn"), (80, "cdn")),
    "firefox": ((443, "any"), (443, "saas"), (443, "cdn")),
    "outlook": ((443, "ms"),), "winword": ((443, "ms"),), "excel": ((443, "ms"),),
    "powerpnt": ((443, "ms"),), "teams": ((443, "ms"),), "onedrive": ((443, "ms"),),
    "onedrivestandalone": ((443, "ms"),), "backgroundtaskhost": ((443, "ms"),),
    "smartscreen": ((443, "ms"),), "msmpeng": ((443, "ms"),), "mpcmdrun": ((443, "ms"),),
    "wuauclt": ((443, "ms"), (80, "cdn")), "slack": ((443, "saas"),), "zoom": ((443, "saas"),),
    "acrobat": ((443, "saas"),), "code": ((443, "ms"), (443, "dev")), "git": ((443, "dev"),),
    "node": ((443, "dev"),), "googleupdate": ((443, "google"),),
    "svchost": ((443, "ms"), (443, "ms"), (80, "cdn"), (443, "cdn"), (53, "dc"), (445, "fs")),
    "svchost_net": ((53, "dc"), (443, "ms")), "svchost_loc": ((443, "ms"),),
    "lsass": ((88, "dc"), (389, "dc")), "mstsc": ((3389, "internal"),),
    "nslookup": ((53, "dc"),), "net": ((445, "fs"),), "spoolsv": ((445, "fs"),),
    "powershell": ((443, "ms"), (445, "fs")), "pwsh": ((443, "ms"), (443, "dev")),
    "sqlservr": ((1433, "<internal"),), "w3wp": ((443, "<internal"),),
    "explorer": ((445, "fs"), (443, "ms")),
}
DOTNET_USERS = frozenset(("powershell", "pwsh", "wmiprvse", "sqlservr", "w3wp", "msiexec"))


def build_pools(est: Estate, rng: Random) -> dict[str, list[Any]]:
    """Pools of realistic values drawn at event time (paths, keys, domains, ...).

    Files and registry keys carry the processes that write them, and a user part that is
    filled in from the writing process (see ``OWNER``).
    """
    f = est.filler
    r = rng
    users = est.users
    pools: dict[str, list[Any]] = {}
    owner = {"user": OWNER, "sid": OWNER_SID}

    # files created by processes (Sysmon 11, Security 4663): (path, writers)
    weights = [t[0] for t in FILE_TEMPLATES]
    pools["files"] = [
        (f.fill(t[1], owner), t[2])
        for t in r.choices(FILE_TEMPLATES, weights=weights, k=16000)
    ]

    # registry values (Sysmon 12/13): (key, value data, writers)
    reg: list[tuple[str, str, tuple[str, ...]]] = []
    weights = [t[0] for t in REG_TEMPLATES]
    for _, template, kind, writers in r.choices(REG_TEMPLATES, weights=weights, k=8000):
        if kind == "dword":
            details = f"DWORD (0x{_rint(r, 0, 4):08x})"
        elif kind == "zero":
            details = "DWORD (0x00000000)"
        elif kind == "qword":
            details = f"QWORD (0x{r.getrandbits(32):08x}-0x{r.getrandbits(32):08x})"
        elif kind == "ip":
            details = f"10.{_rint(r, 10, 12)}.{_rint(r, 1, 5)}.{_rint(r, 10, 60)}"
        elif kind == "path":
            details = f.fill("C:\\Program Files\\{repo}\\bin\\{pkg}.dll", owner)
        elif kind == "string":
            details = f"{r.getrandbits(128):032X}{r.getrandbits(128):032X}"
        else:
            details = "Binary Data"
        reg.append((f.fill(template, owner), details, writers))
    pools["reg"] = reg

    # DNS names with their answers, by destination kind: (name, ip, QueryResults)
    dns: dict[str, list[tuple[str, str, str]]] = {}
    for kind, (domains, ranges) in DOMAIN_GROUPS.items():
        entries = dns.setdefault(kind, [])
        for _ in range(800):
            name = f"{_pick(r, SUBDOMAINS)}.{_pick(r, domains)}"
            # Microsoft's ranges are the ones Sigma's Office rules know as Microsoft's
            ip = _pick(r, ranges).format(
                a=_rint(r, 0, 255), b=_rint(r, 1, 254), c=_rint(r, 112, 121),
                ms13=_rint(r, 240, 247), ms20=_rint(r, 184, 191), ms52=_rint(r, 96, 99),
                ms40=_rint(r, 96, 103))
            results = (f"type:  5 {name.split('.', 1)[1]}.edgekey.net;::ffff:{ip};"
                       if r.random() < 0.4 else f"::ffff:{ip};")
            entries.append((name, ip, results))
    dns["any"] = [e for kind in DOMAIN_GROUPS for e in dns[kind]]
    for kind, hosts in (("dc", ("DC01", "DC02")), ("fs", ("FS01", "FS02", "NAS01")),
                        ("internal", tuple(est.hosts))):
        dns[kind] = [(est.fqdn[h], est.host_ip[h], f"::ffff:{est.host_ip[h]};") for h in hosts]
    pools["dns"] = dns

    # PowerShell script blocks (4104)
    scripts: list[str] = []
    for _ in range(3000):
        u = _pick(r, users)
        parts = [f.fill(_pick(r, PS_SNIPPETS), {"user": u}) for _ in range(_rint(r, 1, 3))]
        scripts.append("\n".join(parts))
    pools["scripts"] = scripts

    # 7045 services
    services: list[tuple[str, str, str, str, str]] = []
    for _ in range(400):
        name, image = _pick(r, (
            ("Google Update Service (gupdate)",
             f"\"{PF86}\\Google\\Update\\GoogleUpdate.exe\" /svc"),
            ("Microsoft Edge Update Service (edgeupdate)",
             f"\"{PF86}\\Microsoft\\EdgeUpdate\\MicrosoftEdgeUpdate.exe\" /svc"),
            ("Mozilla Maintenance Service",
             f"\"{PF86}\\Mozilla Maintenance Service\\maintenanceservice.exe\""),
            ("Zoom Sharing Service",
             f"\"{PF}\\Zoom\\bin\\CptService.exe\" -user_path \"C:\\Users\""),
            ("Windows Defender Advanced Threat Protection Service",
             f"\"{PF}\\Windows Defender Advanced Threat Protection\\MsSense.exe\""),
            ("Microsoft Update Health Service",
             f"\"{PF}\\Microsoft Update Health Tools\\uhssvc.exe\""),
            (f"Intel(R) Graphics Command Center Service {_rint(r, 1, 9)}",
             f"{SYS32}\\DriverStore\\FileRepository\\iigd_dch.inf_amd64_{r.getrandbits(64):016x}"
             "\\IntelCpHDCPSvc.exe"),
            ("Veeam Agent for Microsoft Windows",
             f"\"{PF}\\Veeam\\Endpoint Backup\\Veeam.EndPoint.Service.exe\""),
            (f"MSSQL$INSTANCE{_rint(r, 1, 4)}",
             f"\"{PF}\\Microsoft SQL Server\\MSSQL16.INSTANCE\\MSSQL\\Binn\\sqlservr.exe\""
             f" -sINSTANCE{_rint(r, 1, 4)}"),
        ))
        services.append((name, image, "user mode service",
                         _pick(r, ("auto start", "demand start")), "LocalSystem"))
    pools["services"] = services

    # Sysmon 10 call traces
    pools["calltraces"] = [
        "|".join(
            f"C:\\Windows\\SYSTEM32\\{d}+{r.getrandbits(20):x}"
            for d in r.sample(("ntdll.dll", "KERNELBASE.dll", "kernel32.dll", "combase.dll",
                               "RPCRT4.dll", "sechost.dll", "advapi32.dll", "wbemcomn.dll"),
                              _rint(r, 2, 5))
        ) for _ in range(600)
    ]
    pools["dotnet"] = [f.fill(d, {}) for d in DOTNET_DLLS for _ in range(3)]
    return pools


# --------------------------------------------------------------------------- events


class Running:
    """A running process, with its fields already serialized as JSON text."""

    __slots__ = ("basic", "computer", "create", "f4688", "guid", "host", "image", "key", "net",
                 "owner", "pid", "raw", "rids", "sid", "subject", "user")

    def __init__(self, *, raw: Event, host: str, computer: str, rids: list[int], guid: str,
                 pid: int, image: str, user: str, basic: str, create: str, subject: str,
                 f4688: str, owner: str, sid: str) -> None:
        self.raw = raw  # the plain fields
        self.key: str = raw["_key"]  # which PROCS entry it runs
        self.net = NET_PROFILES.get(self.key, ())  # its (port, destination kind) choices
        self.host = host
        self.computer = computer  # JSON text from here on
        self.rids = rids  # EventRecordID counters of the host
        self.guid = guid
        self.pid = pid
        self.image = image
        self.user = user
        self.basic = basic  # "ProcessGuid":..,"ProcessId":..,"Image":..
        self.create = create  # the Sysmon 1 fields
        self.subject = subject  # the Security Subject* fields
        self.f4688 = f4688  # the rest of a 4688
        self.owner = owner  # user name for paths under C:\Users
        self.sid = sid  # SID for keys under HKU

    def own(self, text: str) -> str:
        """Fill the OWNER placeholders of a serialized pool value."""
        if "\\u000" not in text:
            return text
        return text.replace(OWNER_JSON, self.owner).replace(OWNER_SID_JSON, self.sid)


def _j(value: Any) -> str:
    """JSON text of one value."""
    return orjson.dumps(value).decode()


def _fields(fields: Event) -> str:
    """JSON text of an object's members, without the braces: ``"a":1,"b":"x"``."""
    return orjson.dumps(fields).decode()[1:-1]


SYSMON_1_FIELDS = (
    "ProcessGuid", "ProcessId", "Image", "FileVersion", "Description", "Product", "Company",
    "OriginalFileName", "CommandLine", "CurrentDirectory", "User", "LogonGuid", "LogonId",
    "TerminalSessionId", "IntegrityLevel", "Hashes", "ParentProcessGuid", "ParentProcessId",
    "ParentImage", "ParentCommandLine", "ParentUser",
)
PORT_NAMES = {443: "https", 80: "http", 445: "microsoft-ds", 53: "domain", 88: "kerberos",
              389: "ldap", 135: "epmap"}
APP_DLLS = ("chrome_elf.dll", "libcef.dll", "ffmpeg.dll", "d3dcompiler_47.dll", "libEGL.dll",
            "libGLESv2.dll", "vk_swiftshader.dll", "sqlite3.dll")


_MILLIS = [f"{i:03d}" for i in range(1000)]
_CHANNEL_INDEX = {SYSMON[0]: 0, SECURITY[0]: 1, SYSTEM[0]: 2, POWERSHELL[0]: 3}


class Generator:
    """Produces flattened events as JSON text, one method per (channel, event id).

    Everything that does not change from one event to the next (a process's fields, a
    DLL's metadata, a registry key) is serialized once; an event is then a few string
    pieces put together, which is what makes the generator fast in pure Python.
    Security, System and PowerShell bodies are kept in pools that fill on first use.
    """

    def __init__(self, seed: int, start: datetime, eps: float) -> None:
        self.rng = Random(seed)
        self._random = self.rng.random
        self.est = Estate(self.rng)
        self.pools = build_pools(self.est, self.rng)
        self.t = start.timestamp()
        self.step = 2.0 / eps  # uniform inter-arrival in [0, step): mean 1/eps
        self._sec = -1
        self._iso = ""
        self._utc = ""
        self.record_ids: dict[str, list[int]] = {}
        self.body_pools: dict[str, list[tuple[str, str]]] = {}
        self._prepare()
        self.kinds: list[Callable[[], str]] = []
        weights: list[float] = []
        for fn, w in (
            (self.sysmon_1, 7.0), (self.sysmon_3, 12.0), (self.sysmon_5, 6.0),
            (self.sysmon_7, 17.0), (self.sysmon_10, 6.0), (self.sysmon_11, 10.0),
            (self.sysmon_12, 4.0), (self.sysmon_13, 9.0), (self.sysmon_22, 8.0),
            (self.sec_4624, 4.0), (self.sec_4625, 0.5), (self.sec_4634, 3.5),
            (self.sec_4672, 2.0), (self.sec_4688, 4.5), (self.sec_4663, 3.0),
            (self.sec_5145, 1.5), (self.sys_7045, 0.1), (self.ps_4104, 1.4),
        ):
            self.kinds.append(fn)
            weights.append(w)
        # a lookup table of 8192 slots, each kind owning a share proportional to its weight
        total = sum(weights)
        acc = 0.0
        cum: list[float] = []
        for w in weights:
            acc += w / total
            cum.append(acc)
        self.table = [self.kinds[min(bisect.bisect_right(cum, (i + 0.5) / 8192),
                                     len(self.kinds) - 1)] for i in range(8192)]

    def _prepare(self) -> None:
        """Serialize the constant parts: headers, processes, pools."""
        est, r = self.est, self.rng
        self.headers: dict[tuple[str, int], tuple[str, str, int]] = {}
        for src, eid, task, level, version in (
            (SYSMON, 1, 1, 4, 5), (SYSMON, 3, 3, 4, 5), (SYSMON, 5, 5, 4, 3),
            (SYSMON, 7, 7, 4, 3), (SYSMON, 10, 10, 4, 3), (SYSMON, 11, 11, 4, 2),
            (SYSMON, 12, 12, 4, 2), (SYSMON, 13, 13, 4, 2), (SYSMON, 22, 22, 4, 5),
            (SECURITY, 4624, 12544, 0, 2), (SECURITY, 4625, 12544, 0, 0),
            (SECURITY, 4634, 12545, 0, 0), (SECURITY, 4672, 12548, 0, 0),
            (SECURITY, 4688, 13312, 0, 2), (SECURITY, 4663, 12800, 0, 1),
            (SECURITY, 5145, 12811, 0, 0), (SYSTEM, 7045, 0, 4, 0), (POWERSHELL, 4104, 2, 5, 1),
        ):
            keywords = {SYSMON: "0x8000000000000000", SECURITY: "0x8020000000000000",
                        SYSTEM: "0x8080000000000000"}.get(src, "0x0")
            self.headers[(src[0], eid)] = (
                f',"EventID":{eid},"Channel":{_j(src[0])},"Provider_Name":{_j(src[1])},'
                '"Computer":',
                f',"Version":{version},"Level":{level},"Task":{task},"Opcode":0,'
                f'"Keywords":"{keywords}",',
                _CHANNEL_INDEX[src[0]],
            )
        # EventRecordID counters, one per (host, channel), keyed by the host's JSON name
        for h in est.hosts:
            self.record_ids[_j(est.fqdn[h])] = [_rint(r, 1000, 5_000_000) for _ in range(4)]
        self.procs: list[Running] = []
        by_id: dict[int, Running] = {}
        for p in est.procs:
            system = p["User"].startswith("NT AUTHORITY")
            computer = _j(p["Computer"])
            run = Running(
                raw=p, host=p["_host"], computer=computer, rids=self.record_ids[computer],
                guid=_j(p["ProcessGuid"]), pid=p["ProcessId"], image=_j(p["Image"]),
                user=_j(p["User"]),
                # files and keys touched by a service belong to the host's user
                owner=p["User"].split("\\", 1)[1] if not system
                else est.host_user.get(p["_host"], "Administrator"),
                sid=p["_sid"],
                basic=_fields({k: p[k] for k in ("ProcessGuid", "ProcessId", "Image")}),
                create=_fields({k: p[k] for k in SYSMON_1_FIELDS}),
                subject=_fields({
                    "SubjectUserSid": "S-1-5-18" if system else p["_sid"],
                    "SubjectUserName": f"{p['_host']}$" if system
                    else p["User"].split("\\", 1)[1],
                    "SubjectDomainName": DOMAIN, "SubjectLogonId": p["LogonId"],
                }),
                f4688=_fields({
                    "NewProcessId": f"0x{p['ProcessId']:x}", "NewProcessName": p["Image"],
                    "TokenElevationType": "%%1936" if system else "%%1938",
                    "ProcessId": f"0x{p['ParentProcessId']:x}",
                    "CommandLine": p["CommandLine"],
                    "TargetUserSid": "S-1-0-0", "TargetUserName": "-", "TargetDomainName": "-",
                    "TargetLogonId": "0x0", "ParentProcessName": p["ParentImage"],
                    "MandatoryLabel": {"System": "S-1-16-16384", "High": "S-1-16-12288"}.get(
                        p["IntegrityLevel"], "S-1-16-8192"),
                }),
            )
            self.procs.append(run)
            by_id[id(p)] = run
        self.by_key: dict[str, list[Running]] = {}
        for run in self.procs:
            self.by_key.setdefault(run.key, []).append(run)
        self.talkers = [run for run in self.procs if run.net]
        self.resolvers = [run for run in self.talkers if any(k[0] != "<" for _, k in run.net)]
        self.by_host = {h: [by_id[id(p)] for p in ps] for h, ps in est.by_host.items()}
        self.system_procs = {h: {k: by_id[id(p)] for k, p in ps.items()}
                             for h, ps in est.system_procs.items()}
        self.jhost_ip = {h: _j(ip) for h, ip in est.host_ip.items()}
        self.jfqdn = {h: _j(n) for h, n in est.fqdn.items()}
        pools = self.pools
        writers: dict[tuple[str, ...], list[Running]] = {}
        for keys in {w for *_, w in pools["files"]} | {w for *_, w in pools["reg"]}:
            writers[keys] = [run for k in keys for run in self.by_key.get(k, ())]
        self.jfiles = [(_j(path), writers[w]) for path, w in pools["files"] if writers[w]]
        self.jreg = [(_j(k), _j(k.rsplit("\\", 1)[0]), _j(d), writers[w])
                     for k, d, w in pools["reg"] if writers[w]]
        self.jdns = {kind: [(_j(n), _j(ip), _j(res)) for n, ip, res in entries]
                     for kind, entries in pools["dns"].items()}
        self.jcalltraces = [_j(c) for c in pools["calltraces"]]
        self.dll_frags: list[str] = []
        for dll in DLLS:
            path = f"{SYS32}\\{dll}"
            self.dll_frags.append(_fields({
                "ImageLoaded": path,
                "FileVersion": f"10.0.{_pick(r, (19041, 22621, 26100))}.{_rint(r, 1, 5000)} "
                "(WinBuild.160101.0800)",
                "Description": f"{dll[:-4]} Library", "Product": _MS[0], "Company": _MS[1],
                "OriginalFileName": dll, "Hashes": est.hashes(path), "Signed": "true",
                "Signature": "Microsoft Windows", "SignatureStatus": "Valid",
            }))
        self.dotnet_frags = [_fields({
            "ImageLoaded": path, "FileVersion": "4.8.9232.0 built by: NET481REL1LAST_C",
            "Description": ".NET Runtime", "Product": "Microsoft® .NET Framework",
            "Company": "Microsoft Corporation",
            "OriginalFileName": path.rsplit("\\", 1)[1].replace(".ni.dll", ".dll"),
            "Hashes": est.hashes(path), "Signed": "true", "Signature": "Microsoft Corporation",
            "SignatureStatus": "Valid",
        }) for path in pools["dotnet"]]
        self.app_dll_frags: dict[tuple[str, str], str] = {}
        self._sysmon_headers = {eid: h for (ch, eid), h in self.headers.items() if ch == SYSMON[0]}

    # --- common parts

    def _tick(self, sec: int) -> None:
        """Start a new second: the date-time prefixes of both timestamp formats."""
        self._sec = sec
        dt = datetime.fromtimestamp(sec, UTC)
        self._iso = dt.strftime("%Y-%m-%dT%H:%M:%S.")
        self._utc = dt.strftime("%Y-%m-%d %H:%M:%S.")

    def _clock(self) -> tuple[str, str]:
        """Advance the clock: (ISO-8601 UTC timestamp, Sysmon UtcTime)."""
        t = self.t = self.t + self._random() * self.step
        sec = int(t)
        if sec != self._sec:
            self._tick(sec)
        ms = _MILLIS[int((t - sec) * 1000)]
        return f"{self._iso}{ms}Z", self._utc + ms

    def _line(self, kind: tuple[str, int], computer: str, body: str) -> str:
        """The complete line of a (non-Sysmon) event."""
        pre, post, channel = self.headers[kind]
        iso, _ = self._clock()
        rids = self.record_ids[computer]
        rids[channel] += 1
        rid = rids[channel]
        return f'{{"@timestamp":"{iso}"{pre}{computer},"EventRecordID":{rid}{post}{body}}}'

    def _sysmon(self, eid: int, p: Running) -> tuple[str, str]:
        """The head of a Sysmon line (up to the first EventData field), and its UtcTime."""
        pre, post, _ = self._sysmon_headers[eid]
        t = self.t = self.t + self._random() * self.step  # _clock(), inlined: the hot path
        sec = int(t)
        if sec != self._sec:
            self._tick(sec)
        ms = _MILLIS[int((t - sec) * 1000)]
        rids = p.rids
        rids[0] += 1
        return (f'{{"@timestamp":"{self._iso}{ms}Z"{pre}{p.computer},"EventRecordID":{rids[0]}'
                f'{post}"RuleName":"-",'), self._utc + ms

    def _proc(self) -> Running:
        return self.procs[int(self.rng.random() * len(self.procs))]

    def _pooled(self, kind: tuple[str, int], make: Callable[[], tuple[str, Event]],
                cap: int) -> str:
        """A line whose (computer, body) comes from a pool that fills on first use."""
        pool = self.body_pools.setdefault(f"{kind}", [])
        if len(pool) < cap:
            host, fields = make()
            item = (self.jfqdn[host], _fields(fields))
            pool.append(item)
        else:
            item = pool[int(self.rng.random() * cap)]
        return self._line(kind, item[0], item[1])

    # --- Sysmon

    def sysmon_1(self) -> str:
        p = self._proc()
        head, utc = self._sysmon(1, p)
        return head + f'"UtcTime":"{utc}",{p.create}}}'

    def sysmon_3(self) -> str:
        r = self.rng
        p = self.talkers[int(r.random() * len(self.talkers))]
        port, kind = p.net[int(r.random() * len(p.net))]
        inbound = kind[0] == "<"
        peers = self.jdns[kind.lstrip("<")]
        name, ip, _ = peers[int(r.random() * len(peers))]
        eph = 49152 + int(r.random() * 16383)
        me_ip, me = self.jhost_ip[p.host], self.jfqdn[p.host]
        if inbound:
            src, dst = (ip, name, eph, "-"), (me_ip, me, port, PORT_NAMES.get(port, "-"))
        else:
            src, dst = (me_ip, me, eph, "-"), (ip, name, port, PORT_NAMES.get(port, "-"))
        proto = "udp" if port == 53 else "tcp"
        head, utc = self._sysmon(3, p)
        return head + (
            f'"UtcTime":"{utc}",{p.basic},"User":{p.user},"Protocol":"{proto}",'
            f'"Initiated":"{"false" if inbound else "true"}","SourceIsIpv6":"false",'
            f'"SourceIp":{src[0]},"SourceHostname":{src[1]},"SourcePort":{src[2]},'
            f'"SourcePortName":"{src[3]}","DestinationIsIpv6":"false","DestinationIp":{dst[0]},'
            f'"DestinationHostname":{dst[1]},"DestinationPort":{dst[2]},'
            f'"DestinationPortName":"{dst[3]}"}}')

    def sysmon_5(self) -> str:
        p = self._proc()
        head, utc = self._sysmon(5, p)
        return head + f'"UtcTime":"{utc}",{p.basic},"User":{p.user}}}'

    def sysmon_7(self) -> str:
        r = self.rng
        p = self._proc()
        x = r.random()
        if x < 0.9 or (x < 0.95 and p.key not in DOTNET_USERS):
            dll = self.dll_frags[int(r.random() * len(self.dll_frags))]
        elif x < 0.95:
            dll = self.dotnet_frags[int(r.random() * len(self.dotnet_frags))]
        else:  # a library shipped beside the program
            name = APP_DLLS[int(r.random() * len(APP_DLLS))]
            base = p.raw["Image"].rsplit("\\", 1)[0]
            cached = self.app_dll_frags.get((base, name))
            if cached is None:
                path = f"{base}\\{name}"
                cached = self.app_dll_frags[(base, name)] = _fields({
                    "ImageLoaded": path, "FileVersion": p.raw["FileVersion"],
                    "Description": name[:-4], "Product": p.raw["Product"],
                    "Company": p.raw["Company"], "OriginalFileName": name,
                    "Hashes": self.est.hashes(path), "Signed": "true",
                    "Signature": p.raw["Company"], "SignatureStatus": "Valid",
                })
            dll = cached
        head, utc = self._sysmon(7, p)
        return head + f'"UtcTime":"{utc}",{p.basic},{dll},"User":{p.user}}}'

    def sysmon_10(self) -> str:
        r = self.rng
        p = self._proc()
        system = self.system_procs[p.host]
        if r.random() < 0.3:
            # LSASS is opened all day long, by the few programs that have a reason to
            target = system["lsass"]
            p = system[("msmpeng", "svchost", "csrss")[int(r.random() * 3)]]
            access = LSASS_ACCESS[int(r.random() * len(LSASS_ACCESS))]
        else:
            local = self.by_host[p.host]
            target = local[int(r.random() * len(local))]
            access = GRANTED_ACCESS[int(r.random() * len(GRANTED_ACCESS))]
        trace = self.jcalltraces[int(r.random() * len(self.jcalltraces))]
        tid = 100 + 4 * int(r.random() * 7500)
        head, utc = self._sysmon(10, p)
        return head + (
            f'"UtcTime":"{utc}","SourceProcessGUID":{p.guid},'
            f'"SourceProcessId":{p.pid},"SourceThreadId":{tid},'
            f'"SourceImage":{p.image},"TargetProcessGUID":{target.guid},'
            f'"TargetProcessId":{target.pid},"TargetImage":{target.image},'
            f'"GrantedAccess":"{access}","CallTrace":{trace},"SourceUser":{p.user},'
            f'"TargetUser":{target.user}}}')

    def sysmon_11(self) -> str:
        r = self.rng
        path, writers = self.jfiles[int(r.random() * len(self.jfiles))]
        p = writers[int(r.random() * len(writers))]
        path = p.own(path)
        head, utc = self._sysmon(11, p)
        return head + (
            f'"UtcTime":"{utc}",{p.basic},"TargetFilename":{path},'
            f'"CreationUtcTime":"{utc}","User":{p.user}}}')

    def sysmon_12(self) -> str:
        r = self.rng
        _, parent, _, writers = self.jreg[int(r.random() * len(self.jreg))]
        p = writers[int(r.random() * len(writers))]
        etype = "CreateKey" if r.random() < 0.7 else "DeleteKey"
        head, utc = self._sysmon(12, p)
        return head + (
            f'"EventType":"{etype}","UtcTime":"{utc}",{p.basic},'
            f'"TargetObject":{p.own(parent)},"User":{p.user}}}')

    def sysmon_13(self) -> str:
        r = self.rng
        key, _, details, writers = self.jreg[int(r.random() * len(self.jreg))]
        p = writers[int(r.random() * len(writers))]
        head, utc = self._sysmon(13, p)
        return head + (
            f'"EventType":"SetValue","UtcTime":"{utc}",{p.basic},'
            f'"TargetObject":{p.own(key)},"Details":{p.own(details)},"User":{p.user}}}')

    def sysmon_22(self) -> str:
        r = self.rng
        p = self.resolvers[int(r.random() * len(self.resolvers))]
        kind = "<"
        while kind[0] == "<":
            kind = p.net[int(r.random() * len(p.net))][1]
        names = self.jdns[kind]
        name, _, results = names[int(r.random() * len(names))]
        status = "0" if r.random() < 0.95 else "9003"
        head, utc = self._sysmon(22, p)
        return head + (
            f'"UtcTime":"{utc}","ProcessGuid":{p.guid},"ProcessId":{p.pid},"QueryName":{name},'
            f'"QueryStatus":"{status}","QueryResults":{results},"Image":{p.image},'
            f'"User":{p.user}}}')

    # --- Security

    def _host(self) -> str:
        # servers log far more Security events than a workstation does
        if self.rng.random() < 0.3:
            return self.est.servers[int(self.rng.random() * len(self.est.servers))]
        hosts = self.est.hosts
        return hosts[int(self.rng.random() * len(hosts))]

    def _logon_target(self, host: str) -> tuple[str, str]:
        r = self.rng
        x = r.random()
        if x < 0.25:
            return f"{host}$", "S-1-5-18"
        if x < 0.35:
            return "SYSTEM", "S-1-5-18"
        user = self.est.host_user.get(host) if r.random() < 0.7 else None
        if user is None:
            user = _pick(r, self.est.admins if r.random() < 0.5 else self.est.users)
        return user, self.est.user_sid[user]

    def _make_4624(self) -> tuple[str, Event]:
        r = self.rng
        host = self._host()
        ltype = _pick(r, (2, 3, 3, 3, 3, 5, 5, 7, 10, 11))
        # service logons (type 5) are SYSTEM's; the others any account's
        tuser, tsid = ("SYSTEM", "S-1-5-18") if ltype == 5 else self._logon_target(host)
        network = ltype in (3, 10)
        peer = _pick(r, self.est.hosts)
        kerb = ltype == 3 and r.random() < 0.7
        return host, {
            "SubjectUserSid": "S-1-5-18" if not network else "S-1-0-0",
            "SubjectUserName": f"{host}$" if not network else "-",
            "SubjectDomainName": DOMAIN if not network else "-",
            "SubjectLogonId": "0x3e7" if not network else "0x0",
            "TargetUserSid": tsid, "TargetUserName": tuser, "TargetDomainName": DOMAIN,
            "TargetLogonId": f"0x{r.getrandbits(28):x}", "LogonType": ltype,
            "LogonProcessName": "Kerberos" if kerb else ("NtLmSsp " if network else "User32 "),
            "AuthenticationPackageName": "Kerberos" if kerb else (
                "NTLM" if network else "Negotiate"),
            "WorkstationName": peer if network else host,
            "LogonGuid": "{" + self.est.filler.guid() + "}" if kerb else
            "{00000000-0000-0000-0000-000000000000}",
            "TransmittedServices": "-",
            "LmPackageName": "NTLM V2" if network and not kerb else "-",
            "KeyLength": 128 if network and not kerb else 0,
            "ProcessId": "0x0" if network else f"0x{r.randrange(400, 2000, 4):x}",
            "ProcessName": "-" if network else f"{SYS32}\\svchost.exe",
            "IpAddress": self.est.host_ip[peer] if network else "127.0.0.1",
            "IpPort": str(_rint(r, 49152, 65535)) if network else "0",
            "ImpersonationLevel": "%%1833", "RestrictedAdminMode": "-",
            "TargetOutboundUserName": "-", "TargetOutboundDomainName": "-",
            "VirtualAccount": "%%1843", "TargetLinkedLogonId": "0x0",
            "ElevatedToken": "%%1842" if tsid == "S-1-5-18" or tuser.startswith("adm-")
            else "%%1843",
        }

    def sec_4624(self) -> str:
        return self._pooled((SECURITY[0], 4624), self._make_4624, 8000)

    def _make_4625(self) -> tuple[str, Event]:
        r = self.rng
        host = self._host()
        peer = _pick(r, self.est.hosts)
        user = _pick(r, (*self.est.users[:50], "administrator", "admin", "test", "guest"))
        sub = _pick(r, (("0xc000006d", "0xc000006a"), ("0xc000006d", "0xc0000064"),
                        ("0xc000006e", "0xc0000072"), ("0xc0000234", "0x0")))
        return host, {
            "SubjectUserSid": "S-1-0-0", "SubjectUserName": "-", "SubjectDomainName": "-",
            "SubjectLogonId": "0x0", "TargetUserSid": "S-1-0-0", "TargetUserName": user,
            "TargetDomainName": DOMAIN, "Status": sub[0], "FailureReason": "%%2313",
            "SubStatus": sub[1], "LogonType": _pick(r, (3, 3, 2, 10)),
            "LogonProcessName": "NtLmSsp ", "AuthenticationPackageName": "NTLM",
            "WorkstationName": peer, "TransmittedServices": "-", "LmPackageName": "-",
            "KeyLength": 0, "ProcessId": "0x0", "ProcessName": "-",
            "IpAddress": self.est.host_ip[peer], "IpPort": str(_rint(r, 49152, 65535)),
        }

    def sec_4625(self) -> str:
        return self._pooled((SECURITY[0], 4625), self._make_4625, 2000)

    def _make_4634(self) -> tuple[str, Event]:
        r = self.rng
        host = self._host()
        tuser, tsid = self._logon_target(host)
        return host, {
            "TargetUserSid": tsid, "TargetUserName": tuser, "TargetDomainName": DOMAIN,
            "TargetLogonId": f"0x{r.getrandbits(28):x}", "LogonType": _pick(r, (3, 3, 2, 5, 7)),
        }

    def sec_4634(self) -> str:
        return self._pooled((SECURITY[0], 4634), self._make_4634, 6000)

    def _make_4672(self) -> tuple[str, Event]:
        host = self._host()
        tuser, tsid = self._logon_target(host)
        return host, {
            "SubjectUserSid": tsid, "SubjectUserName": tuser, "SubjectDomainName": DOMAIN,
            "SubjectLogonId": f"0x{self.rng.getrandbits(28):x}",
            "PrivilegeList": "SeAssignPrimaryTokenPrivilege\n\t\t\tSeTcbPrivilege\n\t\t\t"
            "SeSecurityPrivilege\n\t\t\tSeTakeOwnershipPrivilege\n\t\t\tSeLoadDriverPrivilege\n"
            "\t\t\tSeBackupPrivilege\n\t\t\tSeRestorePrivilege\n\t\t\tSeDebugPrivilege\n\t\t\t"
            "SeAuditPrivilege\n\t\t\tSeSystemEnvironmentPrivilege\n\t\t\tSeImpersonatePrivilege\n"
            "\t\t\tSeDelegateSessionUserImpersonatePrivilege",
        }

    def sec_4672(self) -> str:
        return self._pooled((SECURITY[0], 4672), self._make_4672, 3000)

    def sec_4688(self) -> str:
        p = self._proc()
        return self._line((SECURITY[0], 4688), p.computer,
                          f'{p.subject},{p.f4688}')

    def sec_4663(self) -> str:
        r = self.rng
        path, writers = self.jfiles[int(r.random() * len(self.jfiles))]
        p = writers[int(r.random() * len(writers))]
        obj = p.own(path)
        access = (("%%4416", "0x1"), ("%%4417", "0x2"), ("%%1537", "0x10000"))[
            int(r.random() * 3)]
        body = (f'{p.subject},"ObjectServer":"Security","ObjectType":"File",'
                f'"ObjectName":{obj},"HandleId":"0x{r.getrandbits(16):x}",'
                f'"AccessList":"{access[0]}\\n\\t\\t\\t\\t","AccessMask":"{access[1]}",'
                f'"ProcessId":"0x{p.pid:x}","ProcessName":{p.image},'
                '"ResourceAttributes":"S:AI"')
        return self._line((SECURITY[0], 4663), p.computer, body)

    def _make_5145(self) -> tuple[str, Event]:
        r = self.rng
        server = _pick(r, ("FS01", "FS02", "DC01", "DC02", "NAS01"))
        client = _pick(r, self.est.workstations)
        user = self.est.host_user[client]
        share = _pick(r, ("SYSVOL", "NETLOGON", "IPC$", *DEPARTMENTS))
        if share == "IPC$":
            rel, local = _pick(r, ("srvsvc", "lsarpc", "samr", "winreg", "spoolss")), ""
        elif share in ("SYSVOL", "NETLOGON"):
            rel = _pick(r, (
                f"{DNS_SUFFIX}\\Policies\\{{{self.est.filler.guid()}}}\\gpt.ini",
                f"{DNS_SUFFIX}\\Policies\\{{{self.est.filler.guid()}}}\\Machine\\Registry.pol",
                "logon.cmd",
            ))
            local = "\\??\\C:\\Windows\\SYSVOL\\sysvol"
        else:
            rel = f"{user}\\{self.est.filler.doc()}"
            local = f"\\??\\D:\\Shares\\{share}"
        return server, {
            "SubjectUserSid": self.est.user_sid[user], "SubjectUserName": user,
            "SubjectDomainName": DOMAIN, "SubjectLogonId": f"0x{r.getrandbits(28):x}",
            "ObjectType": "File", "IpAddress": self.est.host_ip[client],
            "IpPort": str(_rint(r, 49152, 65535)), "ShareName": f"\\\\*\\{share}",
            "ShareLocalPath": local, "RelativeTargetName": rel,
            "AccessMask": _pick(r, ("0x1", "0x12019f", "0x100081")),
            "AccessList": "%%1538\n\t\t\t\t%%1541\n\t\t\t\t%%4416\n\t\t\t\t",
            "AccessReason": "-",
        }

    def sec_5145(self) -> str:
        return self._pooled((SECURITY[0], 5145), self._make_5145, 5000)

    # --- System and PowerShell

    def _make_7045(self) -> tuple[str, Event]:
        name, image, stype, start, account = _pick(self.rng, self.pools["services"])
        return self._host(), {"ServiceName": name, "ImagePath": image, "ServiceType": stype,
                              "StartType": start, "AccountName": account}

    def sys_7045(self) -> str:
        return self._pooled((SYSTEM[0], 7045), self._make_7045, 400)

    def _make_4104(self) -> tuple[str, Event]:
        r = self.rng
        p = self._proc()
        return p.host, {
            "MessageNumber": 1, "MessageTotal": 1,
            "ScriptBlockText": _pick(r, self.pools["scripts"]),
            "ScriptBlockId": self.est.filler.guid().lower(),
            "Path": "" if r.random() < 0.7 else self.est.filler.fill(
                "C:\\Users\\{user}\\scripts\\Report-{repo}.ps1", {"user": p.owner}),
        }

    def ps_4104(self) -> str:
        return self._pooled((POWERSHELL[0], 4104), self._make_4104, 8000)

    # --- driver

    def next_line(self) -> str:
        return self.table[int(self.rng.random() * 8192)]()

    def restamp(self, ev: Event) -> str:
        """The line for an injected event, carrying the current clock."""
        iso, _ = self._clock()
        return _j({"@timestamp": iso, **{k: v for k, v in ev.items() if k != "@timestamp"}})


# --------------------------------------------------------------------------- injection


def _json_objects(text: str) -> Iterator[Any]:
    """All JSON values in a text (files may hold several concatenated objects)."""
    raw = json.JSONDecoder()  # raw_decode: orjson has no way to read one value of many
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        obj, i = raw.raw_decode(text, i)
        yield obj


def _leaves(node: Any, out: Event) -> None:
    """Copy the leaves of a nested EventData/UserData block under their own names."""
    if isinstance(node, dict):
        data = node.get("Data")
        if isinstance(data, list):  # <Data Name="x">v</Data> rendered as a list
            for item in data:
                if isinstance(item, dict) and "#attributes" in item:
                    out[item["#attributes"].get("Name", "Data")] = item.get("#text")
        for k, v in node.items():
            if k == "#attributes" or (k == "Data" and isinstance(v, list)):
                continue
            if isinstance(v, dict):
                _leaves(v, out)
            else:
                out[k] = v


def flatten_evtx_json(obj: dict[str, Any]) -> Event | None:
    """Flatten one nested EVTX-JSON event into the generator's flat layout."""
    event = obj.get("Event", obj)
    system = event.get("System")
    if not isinstance(system, dict):
        return None
    eid = system.get("EventID")
    if isinstance(eid, dict):
        eid = eid.get("#text")
    provider = system.get("Provider") or {}
    attrs = provider.get("#attributes", {}) if isinstance(provider, dict) else {}
    created = (system.get("TimeCreated") or {}).get("#attributes", {}).get("SystemTime", "")
    flat: Event = {
        "@timestamp": created,
        "EventID": int(eid) if eid is not None else None,
        "Channel": system.get("Channel"),
        "Provider_Name": attrs.get("Name"),
        "Computer": system.get("Computer"),
        "EventRecordID": system.get("EventRecordID"),
    }
    for k in ("Version", "Level", "Task", "Opcode", "Keywords"):
        if k in system:
            flat[k] = system[k]
    for block in ("EventData", "UserData"):
        if isinstance(event.get(block), dict):
            _leaves(event[block], flat)
    return flat


def load_injected(directory: Path) -> list[Event]:
    events: list[Event] = []
    for path in sorted(directory.rglob("*.json")):
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
        try:
            objs = list(_json_objects(text))
        except ValueError as exc:
            print(f"skipping {path}: {exc}", file=sys.stderr)
            continue
        for obj in objs:
            for item in obj if isinstance(obj, list) else [obj]:
                flat = flatten_evtx_json(item) if isinstance(item, dict) else None
                if flat is not None:
                    events.append(flat)
    return events


# --------------------------------------------------------------------------- main


def generate(n: int, out: Path | None, seed: int, start: datetime, eps: float,
             inject: list[Event], copies: int, batch_size: int = 8192) -> int:
    """Write n lines to out (stdout if None); return the number of bytes written."""
    gen = Generator(seed, start, eps)
    placement = Random(seed ^ 0x5EED)
    slots = min(n, len(inject) * copies)
    positions = placement.sample(range(n), slots) if slots else []
    injected_at = {pos: inject[i % len(inject)] for i, pos in enumerate(positions)}
    table, rand = gen.table, gen.rng.random  # next_line(), inlined in the loop below
    written = 0
    batch: list[str] = []
    with (open(out, "wb") if out else sys.stdout.buffer) as fh:

        def flush() -> None:
            nonlocal written
            batch.append("")
            # per line: ASCII lines (most) encode as a copy, only the others are transcoded
            chunk = b"\n".join([line.encode() for line in batch])
            fh.write(chunk)
            written += len(chunk)
            batch.clear()

        done = 0
        for pos in [*sorted(injected_at), n]:
            while done < pos:  # generated events up to the next injected one
                k = min(pos - done, batch_size - len(batch))
                batch.extend([table[int(rand() * 8192)]() for _ in range(k)])
                done += k
                if len(batch) >= batch_size:
                    flush()
            if pos < n:
                batch.append(gen.restamp(injected_at[pos]))
                done += 1
        if batch:
            flush()
    return written


def _parse_time(text: str) -> datetime:
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    ap.add_argument("--events", type=int, required=True, help="number of lines to write")
    ap.add_argument("--out", required=True, help="output .jsonl file ('-' for stdout)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--inject", type=Path, help="folder of nested EVTX-JSON *.json events")
    ap.add_argument("--copies", type=int, default=5, help="copies of each injected event")
    ap.add_argument("--start", default="2025-03-03T08:00:00Z", help="first timestamp (UTC)")
    ap.add_argument("--eps", type=float, default=40.0, help="simulated events per second")
    args = ap.parse_args(argv)
    if args.events < 0 or args.copies < 0 or args.eps <= 0:
        ap.error("--events and --copies must be >= 0 and --eps > 0")
    inject = load_injected(args.inject) if args.inject else []
    t0 = time.perf_counter()
    out = None if args.out == "-" else Path(args.out)
    size = generate(args.events, out, args.seed, _parse_time(args.start), args.eps,
                    inject, args.copies)
    dt = time.perf_counter() - t0
    print(
        f"wrote {args.events:,} events ({size:,} bytes, {size / max(args.events, 1):.0f} B/event,"
        f" {len(inject)} injected x{args.copies}) in {dt:.2f}s = "
        f"{args.events / dt if dt else 0:,.0f} events/s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
