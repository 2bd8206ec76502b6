; Inno Setup script of the Laser Trim Analyzer Edge station agent for Windows.
;
; Installs the one-folder app (make build / build\lta-agent.spec) to Program
; Files, keeps config and data in ProgramData\LaserTrimAnalyzer\agent, and
; registers the service through WinSW (started with the machine, restarted
; after a crash). docs/install.md is the guide for IT.
;
; Built by .github/workflows/windows.yml:
;   iscc /DAppVersion=0.1.0 /DAppDir=build\out\lta-agent /DWinSW=build\out\WinSW-x64.exe
;        /Obuild\out installer\windows\lta-agent.iss
;
; Silent install (each parameter optional; they fill the config on the first
; install only, an upgrade keeps the existing config):
;   lta-agent-setup-0.1.0.exe /VERYSILENT /SUPPRESSMSGBOXES /NORESTART
;       /CENTRALURL=https://lta.example.com /TOKEN=<station token> /INBOX=D:\TrimResults
;       [/STATIONID=trim-07] [/BIND=0.0.0.0:8710]
;       [/SERVICEACCOUNT=DOMAIN\svc-lta /SERVICEPASSWORD=<password>]
; /SERVICEACCOUNT: the account the service runs as (default LocalSystem). For an
; inbox on a share: a domain account with read (archive: modify) rights on it, a
; gMSA (DOMAIN\name$, no password), or NT AUTHORITY\NetworkService (the
; computer account DOMAIN\PC$ on the network, given rights on the share).
;
; Order (issue 14): files, then config, ACLs, service registration, start, and a
; wait until the service runs. All of it runs in the AfterInstall of the last
; file, inside the installation step: a failure raises, Setup rolls the
; installation back and exits with code 4, silent or not. (An exception in
; CurStepChanged(ssPostInstall) would only be shown, with exit code 0.)
; Silent uninstall, data kept (add /PURGE to delete config and data too):
;   "C:\Program Files\Laser Trim Analyzer\agent\unins000.exe" /VERYSILENT /SUPPRESSMSGBOXES

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=<version> (lta-agent.exe --version prints it)
#endif
#ifndef AppDir
  #define AppDir "..\..\build\out\lta-agent"
#endif
#ifndef WinSW
  #define WinSW "..\..\build\out\WinSW-x64.exe"
#endif

#define ServiceId "lta-agent"
#define FirewallRule "Laser Trim Analyzer agent"

[Setup]
AppId={{FEC9ED1F-F883-4B1C-839E-531CF34EB9E5}
AppName=Laser Trim Analyzer agent
AppVersion={#AppVersion}
AppVerName=Laser Trim Analyzer agent {#AppVersion}
AppPublisher=Laser Trim Analyzer Edge team
DefaultDirName={autopf}\Laser Trim Analyzer\agent
DisableDirPage=auto
DisableProgramGroupPage=yes
PrivilegesRequired=admin
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputBaseFilename=lta-agent-setup-{#AppVersion}
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
CloseApplications=no
SetupLogging=yes
UninstallDisplayName=Laser Trim Analyzer agent

[InstallDelete]
; An upgrade replaces the app's libraries whole, so nothing of the old version lingers.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#AppDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
Source: "{#WinSW}"; DestDir: "{app}"; DestName: "lta-agent-service.exe"; Flags: ignoreversion
; Last: everything the service needs is in place when InstallService runs.
Source: "lta-agent-service.xml"; DestDir: "{app}"; Flags: ignoreversion; \
  AfterInstall: InstallService

[Dirs]
; Config, store, outbox, logs and kernel cache: never removed by the uninstaller.
Name: "{commonappdata}\LaserTrimAnalyzer\agent"; Flags: uninsneveruninstall
Name: "{commonappdata}\LaserTrimAnalyzer\agent\logs"; Flags: uninsneveruninstall
Name: "{commonappdata}\LaserTrimAnalyzer\agent\kernel-cache"; Flags: uninsneveruninstall

; No [Run] or [UninstallRun] entries: the service is registered, started and
; stopped from [Code] (InstallService, CurUninstallStepChanged), where a failure
; can stop Setup and where the stop can be waited for.

[Code]
var
  FirewallWanted: Boolean;
  ShippedXml: TArrayOfString;  { the service definition as shipped, without an account }

function DataDir(): String;
begin
  Result := ExpandConstant('{commonappdata}\LaserTrimAnalyzer\agent');
end;

function ConfigFile(): String;
begin
  Result := DataDir() + '\agent.toml';
end;

function Param(Name: String): String;
begin
  Result := Trim(ExpandConstant('{param:' + Name + '|}'));
end;

function ServiceExists(): Boolean;
begin
  Result := RegKeyExists(HKLM, 'SYSTEM\CurrentControlSet\Services\{#ServiceId}');
end;

{ The page's port from /BIND=host:port; 8710 when not given. }
function PagePort(Value: String): String;
var
  Bind: String;
  I: Integer;
begin
  Bind := Param('BIND');
  Result := '8710';
  for I := Length(Bind) downto 1 do
    if Bind[I] = ':' then
    begin
      Result := Copy(Bind, I + 1, Length(Bind) - I);
      Exit;
    end;
end;

function IsLoopback(Bind: String): Boolean;
begin
  Result := (Bind = '') or (Pos('127.0.0.1:', Bind) = 1) or (Pos('localhost:', Bind) = 1)
    or (Pos('[::1]:', Bind) = 1);
end;

{ The values go into the config as TOML literal strings ('...'), which cannot hold a quote. }
function HasNoQuote(Name: String): Boolean;
begin
  Result := Pos('''', Param(Name)) = 0;
  if not Result then
    SuppressibleMsgBox('/' + Name + '= must not contain a quote character.',
      mbCriticalError, MB_OK, IDOK);
end;

function InitializeSetup(): Boolean;
begin
  Result := HasNoQuote('CENTRALURL') and HasNoQuote('TOKEN') and HasNoQuote('INBOX')
    and HasNoQuote('STATIONID') and HasNoQuote('BIND') and HasNoQuote('SERVICEACCOUNT');
  FirewallWanted := not IsLoopback(Param('BIND'));
end;

{ True once "sc query" reports the service in State (e.g. 'STOPPED', 'RUNNING'). }
function ServiceIs(State: String): Boolean;
var
  Code: Integer;
begin
  Result := Exec(ExpandConstant('{cmd}'),
    '/c ' + ExpandConstant('{sys}') + '\sc.exe query {#ServiceId} | '
    + ExpandConstant('{sys}') + '\find.exe "' + State + '" >nul',
    '', SW_HIDE, ewWaitUntilTerminated, Code) and (Code = 0);
end;

{ Wait up to Seconds for State; True if reached. }
function WaitForService(State: String; Seconds: Integer): Boolean;
var
  I: Integer;
begin
  for I := 1 to Seconds do
  begin
    if ServiceIs(State) then
    begin
      Result := True;
      Exit;
    end;
    Sleep(1000);
  end;
  Result := ServiceIs(State);
end;

{ Stop the service and wait until it and its analysis worker have exited.
  WinSW gives the agent up to 60 s (stoptimeout) to finish the file in hand. }
function StopService(): Boolean;
var
  Code: Integer;
begin
  Result := True;
  if not ServiceExists() then
    Exit;
  Log('Stopping the service');
  Exec(ExpandConstant('{sys}\sc.exe'), 'stop {#ServiceId}', '', SW_HIDE,
    ewWaitUntilTerminated, Code);
  Result := WaitForService('STOPPED', 75);
  { The analysis worker is in the agent's Job Object (kill on close): it ends with the
    agent. A moment more for Windows to release the files' handles. }
  Sleep(2000);
end;

{ Stop the running service before its files are replaced (upgrade in place). }
function PrepareToInstall(var NeedsRestart: Boolean): String;
begin
  Result := '';
  if ServiceExists() and not StopService() then
    Result := 'The Laser Trim Analyzer agent service did not stop within 75 s. Stop it '
      + '(services.msc), then run Setup again.';
end;

{ Insert "Line" right below the "[Section]" header of the config. }
procedure SetKey(var Lines: TArrayOfString; Section, Line: String);
var
  I, J: Integer;
begin
  for I := 0 to GetArrayLength(Lines) - 1 do
    if Trim(Lines[I]) = '[' + Section + ']' then
    begin
      SetArrayLength(Lines, GetArrayLength(Lines) + 1);
      for J := GetArrayLength(Lines) - 1 downto I + 2 do
        Lines[J] := Lines[J - 1];
      Lines[I + 1] := Line;
      Exit;
    end;
end;

{ First install: the commented default config with the values given on the command line. }
procedure WriteConfig();
var
  Lines: TArrayOfString;
  ResultCode: Integer;
begin
  if FileExists(ConfigFile()) then
  begin
    Log('Keeping the existing config ' + ConfigFile());
    Exit;
  end;
  ForceDirectories(DataDir());
  if not Exec(ExpandConstant('{app}\lta-agent.exe'), 'init-config "' + ConfigFile() + '"', '',
    SW_HIDE, ewWaitUntilTerminated, ResultCode) or (ResultCode <> 0) or
    not FileExists(ConfigFile()) then
    RaiseException('lta-agent init-config failed (exit code ' + IntToStr(ResultCode)
      + '): the config ' + ConfigFile() + ' was not written. See the Setup log (/LOG=).');
  if not LoadStringsFromFile(ConfigFile(), Lines) then
    RaiseException('Cannot read ' + ConfigFile());
  if Param('INBOX') <> '' then
    SetKey(Lines, 'inbox', 'paths = [''' + Param('INBOX') + ''']');
  if Param('STATIONID') <> '' then
    SetKey(Lines, 'station', 'id = ''' + Param('STATIONID') + '''');
  if Param('BIND') <> '' then
    SetKey(Lines, 'web', 'bind = ''' + Param('BIND') + '''');
  if Param('CENTRALURL') <> '' then
    SetKey(Lines, 'central', 'url = ''' + Param('CENTRALURL') + '''');
  if Param('TOKEN') <> '' then
    SetKey(Lines, 'central', 'token = ''' + Param('TOKEN') + '''');
  if not SaveStringsToUTF8File(ConfigFile(), Lines, False) then
    RaiseException('Cannot write ' + ConfigFile());
  Log('Wrote ' + ConfigFile());
end;

{ The account the service runs as: /SERVICEACCOUNT=, or LocalSystem. }
function ServiceAccount(): String;
begin
  Result := Param('SERVICEACCOUNT');
  if (Result = '') or (CompareText(Result, 'LocalSystem') = 0) then
    Result := '';
end;

procedure Icacls(Args: String);
var
  ResultCode: Integer;
begin
  if not Exec(ExpandConstant('{sys}\icacls.exe'), Args, '', SW_HIDE, ewWaitUntilTerminated,
    ResultCode) or (ResultCode <> 0) then
    RaiseException('icacls ' + Args + ' failed (exit code ' + IntToStr(ResultCode) + ')');
end;

{ The data folder: Modify for the service's account (store, logs, kernel cache), full
  control for SYSTEM and Administrators, nothing for Users (results are the plant's).
  Cutting inheritance from ProgramData matters for the kernel cache above all: numba's
  index there is a pickle the service loads, so whoever could write it would run code
  as the service (docs/security.md).
  The config may hold the station token: SYSTEM, Administrators and the service's
  account (read) only. }
procedure SetAcls();
var
  Account: String;
begin
  Account := ServiceAccount();
  Icacls('"' + DataDir() + '" /inheritance:r /grant:r *S-1-5-18:(OI)(CI)(F) '
    + '*S-1-5-32-544:(OI)(CI)(F)');
  if Account <> '' then
    Icacls('"' + DataDir() + '" /grant "' + Account + '":(OI)(CI)(M)');
  Icacls('"' + ConfigFile() + '" /inheritance:r /grant:r *S-1-5-18:(F) *S-1-5-32-544:(F)');
  if Account <> '' then
    Icacls('"' + ConfigFile() + '" /grant "' + Account + '":(R)');
end;

function XmlEscape(Value: String): String;
begin
  Result := Value;
  StringChangeEx(Result, '&', '&amp;', True);
  StringChangeEx(Result, '<', '&lt;', True);
  StringChangeEx(Result, '>', '&gt;', True);
end;

{ The service definition, with a <serviceaccount> block when WithAccount: WinSW reads
  it at "install" only (and grants "Log on as a service"); the file is written again
  without it right after, so the password does not stay on disk. }
procedure WriteServiceXml(WithAccount: Boolean);
var
  Lines: TArrayOfString;
  I, J: Integer;
  Account: String;
begin
  if GetArrayLength(ShippedXml) = 0 then
    if not LoadStringsFromFile(ExpandConstant('{app}\lta-agent-service.xml'), ShippedXml) then
      RaiseException('Cannot read ' + ExpandConstant('{app}\lta-agent-service.xml'));
  Account := ServiceAccount();
  J := 0;
  SetArrayLength(Lines, GetArrayLength(ShippedXml) + 5);
  for I := 0 to GetArrayLength(ShippedXml) - 1 do
  begin
    if WithAccount and (Account <> '') and (Trim(ShippedXml[I]) = '</service>') then
    begin
      Lines[J] := '  <serviceaccount>';
      Lines[J + 1] := '    <username>' + XmlEscape(Account) + '</username>';
      Lines[J + 2] := '    <password>' + XmlEscape(Param('SERVICEPASSWORD')) + '</password>';
      Lines[J + 3] := '    <allowservicelogon>true</allowservicelogon>';
      Lines[J + 4] := '  </serviceaccount>';
      J := J + 5;
    end;
    Lines[J] := ShippedXml[I];
    J := J + 1;
  end;
  SetArrayLength(Lines, J);
  if not SaveStringsToUTF8File(ExpandConstant('{app}\lta-agent-service.xml'), Lines, False) then
    RaiseException('Cannot write ' + ExpandConstant('{app}\lta-agent-service.xml'));
end;

procedure WinSW(Command: String);
var
  ResultCode: Integer;
begin
  if not Exec(ExpandConstant('{app}\lta-agent-service.exe'), Command, '', SW_HIDE,
    ewWaitUntilTerminated, ResultCode) or (ResultCode <> 0) then
    RaiseException('lta-agent-service.exe ' + Command + ' failed (exit code '
      + IntToStr(ResultCode) + '). See the Setup log (/LOG=) and '
      + DataDir() + '\logs.');
end;

procedure AddFirewallRule();
var
  ResultCode: Integer;
begin
  if not FirewallWanted then
    Exit;
  Exec(ExpandConstant('{sys}\netsh.exe'), 'advfirewall firewall delete rule name="{#FirewallRule}"',
    '', SW_HIDE, ewWaitUntilTerminated, ResultCode);
  if not Exec(ExpandConstant('{sys}\netsh.exe'),
    'advfirewall firewall add rule name="{#FirewallRule}" dir=in action=allow protocol=TCP '
    + 'localport=' + PagePort('') + ' program="' + ExpandConstant('{app}\lta-agent.exe') + '"',
    '', SW_HIDE, ewWaitUntilTerminated, ResultCode) or (ResultCode <> 0) then
    RaiseException('netsh could not open port ' + PagePort('') + ' (exit code '
      + IntToStr(ResultCode) + ')');
end;

{ AfterInstall of the last file: config, ACLs, service, start, in that order. Any
  failure raises: Setup rolls back and exits with code 4 (silent installs too). }
procedure InstallService();
var
  Registered: Boolean;
  I: Integer;
begin
  WriteConfig();
  SetAcls();
  Registered := False;
  try
    if ServiceExists() and (ServiceAccount() <> '') then
    begin
      Log('Registering the service again for the account ' + ServiceAccount());
      WinSW('uninstall');
      { The registration goes once no handle to it is left open (services.msc). }
      for I := 1 to 30 do
        if ServiceExists() then
          Sleep(1000);
      if ServiceExists() then
        RaiseException('The service is marked for deletion: close the Services console '
          + '(services.msc) and run Setup again.');
    end;
    if not ServiceExists() then
    begin
      WriteServiceXml(True);
      try
        WinSW('install');
        Registered := True;
      finally
        WriteServiceXml(False);
      end;
    end;
    AddFirewallRule();
    WinSW('start');
    if not WaitForService('RUNNING', 60) then
      RaiseException('The service did not reach RUNNING within 60 s. See '
        + DataDir() + '\logs\agent.log, and run "lta-agent doctor".');
    Log('The service is running');
  except
    if Registered then
    begin
      Log('Removing the service registered by this failed install');
      StopService();
      WinSW('uninstall');
    end;
    RaiseException(GetExceptionMessage());
  end;
end;

function CommandLineHas(Switch: String): Boolean;
var
  I: Integer;
begin
  Result := False;
  for I := 1 to ParamCount do
    if CompareText(ParamStr(I), Switch) = 0 then
      Result := True;
end;

{ Before any file is removed: stop the service and wait for it (and its worker) to
  exit, so no file is in use; then unregister it. Data and config stay unless the
  uninstaller is run with /PURGE. }
procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  ResultCode: Integer;
begin
  if CurUninstallStep = usUninstall then
  begin
    if not StopService() then
      Log('The service did not report STOPPED within 75 s; removing it anyway');
    if ServiceExists() then
      Exec(ExpandConstant('{app}\lta-agent-service.exe'), 'uninstall', '', SW_HIDE,
        ewWaitUntilTerminated, ResultCode);
    Exec(ExpandConstant('{sys}\netsh.exe'),
      'advfirewall firewall delete rule name="{#FirewallRule}"', '', SW_HIDE,
      ewWaitUntilTerminated, ResultCode);
  end;
  if (CurUninstallStep = usPostUninstall) and CommandLineHas('/PURGE') then
  begin
    Log('/PURGE: deleting ' + DataDir());
    DelTree(DataDir(), True, True, True);
  end;
end;
