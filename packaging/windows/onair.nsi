; OnAir Studio installer (NSIS 3). Built by packaging/windows/build.sh:
;   makensis -DVERSION=x.y.z -DEXE=path\to\OnAir Studio.exe -DOUT=dist\onair-studio_x.y.z_windows_amd64_setup.exe onair.nsi
; Installs for the current user (no administrator rights) or, when chosen, for all users in Program Files;
; adds a Start-menu entry and an uninstaller, and asks before removing the user's data.
Target amd64-unicode ; the studio is a 64-bit program: a 64-bit installer (and Program Files, not Program Files (x86))
!define APPNAME "OnAir Studio"
!define COMPANY "OnAir Studio"
!define UNINSTKEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\OnAirStudio"
!define MULTIUSER_EXECUTIONLEVEL Highest
!define MULTIUSER_MUI
!define MULTIUSER_INSTALLMODE_COMMANDLINE
!define MULTIUSER_INSTALLMODE_INSTDIR "${APPNAME}"
!include MultiUser.nsh
!include MUI2.nsh

Name "${APPNAME} ${VERSION}"
OutFile "${OUT}"
SetCompressor /SOLID lzma

!insertmacro MUI_PAGE_WELCOME
!insertmacro MULTIUSER_PAGE_INSTALLMODE
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Function .onInit
  !insertmacro MULTIUSER_INIT
FunctionEnd

Function un.onInit
  !insertmacro MULTIUSER_UNINIT
FunctionEnd

Section "Install"
  SetOutPath "$INSTDIR"
  File "/oname=OnAir Studio.exe" "${EXE}"
  WriteUninstaller "$INSTDIR\Uninstall.exe"
  CreateDirectory "$SMPROGRAMS\${APPNAME}"
  CreateShortcut "$SMPROGRAMS\${APPNAME}\${APPNAME}.lnk" "$INSTDIR\OnAir Studio.exe"
  CreateShortcut "$SMPROGRAMS\${APPNAME}\Uninstall ${APPNAME}.lnk" "$INSTDIR\Uninstall.exe"
  WriteRegStr SHCTX "${UNINSTKEY}" "DisplayName" "${APPNAME}"
  WriteRegStr SHCTX "${UNINSTKEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr SHCTX "${UNINSTKEY}" "Publisher" "${COMPANY}"
  WriteRegStr SHCTX "${UNINSTKEY}" "DisplayIcon" "$INSTDIR\OnAir Studio.exe"
  WriteRegStr SHCTX "${UNINSTKEY}" "UninstallString" '"$INSTDIR\Uninstall.exe" /$MultiUser.InstallMode'
  WriteRegDWORD SHCTX "${UNINSTKEY}" "NoModify" 1
  WriteRegDWORD SHCTX "${UNINSTKEY}" "NoRepair" 1
SectionEnd

Section "Uninstall"
  Delete "$INSTDIR\OnAir Studio.exe"
  Delete "$INSTDIR\Uninstall.exe"
  RMDir "$INSTDIR"
  Delete "$SMPROGRAMS\${APPNAME}\${APPNAME}.lnk"
  Delete "$SMPROGRAMS\${APPNAME}\Uninstall ${APPNAME}.lnk"
  RMDir "$SMPROGRAMS\${APPNAME}"
  DeleteRegKey SHCTX "${UNINSTKEY}"
  ; The streams, keys and recordings are the user's: removed only when asked.
  SetShellVarContext current
  IfFileExists "$APPDATA\OnAirStudio\*.*" 0 done
  MessageBox MB_YESNO|MB_ICONQUESTION "Also remove your OnAir Studio data (streams, keys, settings and recordings in $APPDATA\OnAirStudio)?" /SD IDNO IDNO done
  RMDir /r "$APPDATA\OnAirStudio"
  done:
SectionEnd
