import { useEffect, useId, useRef, useState, type ChangeEvent, type FormEvent, type InputHTMLAttributes, type ReactNode } from "react";
import { AlertIcon, LogoMark } from "./icons";
import { inviteTokenFrom, signupScreen, type SignupInfo } from "../lib/signup";
import { type PublicClient, describeAuthError, type AuthField, type FormErrors, type Tokens, fullNameProblem, passwordProblem, usernameProblem } from "@parley/client";

type Mode = "login" | "signup";

interface AuthScreenProps {
  api: PublicClient;
  /** Why the person is here (their session ended), or null. */
  notice: string | null;
  onSignedIn(tokens: Tokens): Promise<void>;
}

const NO_ERRORS: FormErrors = { form: null, fields: {} };

function checkInput(mode: Mode, values: Record<AuthField, string>): FormErrors {
  const fields: FormErrors["fields"] = {};
  if (mode === "signup") {
    const username = usernameProblem(values.username);
    if (username) fields.username = username;
    const password = passwordProblem(values.password);
    if (password) fields.password = password;
    const fullName = fullNameProblem(values.fullName);
    if (fullName) fields.fullName = fullName;
  } else {
    if (!values.username.trim()) fields.username = "Enter your username.";
    if (!values.password) fields.password = "Enter your password.";
  }
  return { form: null, fields };
}

export function AuthScreen({ api, notice, onSignedIn }: AuthScreenProps) {
  // An invite link (/invite/<token>) opens the signup form with its token.
  const [inviteToken, setInviteToken] = useState(() => inviteTokenFrom(window.location));
  const [mode, setMode] = useState<Mode>(inviteToken ? "signup" : "login");
  const [signupInfo, setSignupInfo] = useState<SignupInfo | null>(null);
  const [values, setValues] = useState<Record<AuthField, string>>({ username: "", password: "", fullName: "" });
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [busy, setBusy] = useState(false);
  const [showPassword, setShowPassword] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const errorRef = useRef<HTMLDivElement>(null);
  const id = useId();

  useEffect(() => {
    formRef.current?.querySelector<HTMLInputElement>("input")?.focus();
  }, [mode, signupInfo]);

  // Which signup screen to show: asked when the signup side opens (the mode may have changed).
  useEffect(() => {
    if (mode !== "signup") return;
    let current = true;
    api.auth.signupInfo
      .query(inviteToken ? { inviteToken } : undefined)
      .then((info) => current && setSignupInfo(info))
      // Not known: the form, and the server says no if it must.
      .catch(() => current && setSignupInfo(null));
    return () => {
      current = false;
    };
  }, [api, mode, inviteToken]);

  useEffect(() => {
    // Take the person to the first problem.
    if (errors.form) errorRef.current?.focus();
    else {
      const field = (["fullName", "username", "password"] as const).find((f) => errors.fields[f]);
      if (field) formRef.current?.querySelector<HTMLInputElement>(`[name="${field}"]`)?.focus();
    }
  }, [errors]);

  const switchMode = (next: Mode) => {
    setMode(next);
    setErrors(NO_ERRORS);
  };

  const update = (field: AuthField) => (event: ChangeEvent<HTMLInputElement>) => {
    setValues((v) => ({ ...v, [field]: event.target.value }));
    if (errors.fields[field]) setErrors((e) => ({ ...e, fields: { ...e.fields, [field]: undefined } }));
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    const problems = checkInput(mode, values);
    if (Object.values(problems.fields).some(Boolean)) {
      setErrors(problems);
      return;
    }
    setBusy(true);
    setErrors(NO_ERRORS);
    try {
      if (mode === "signup") {
        // A spoilt link in open mode is left out (the server refuses any invite it cannot use).
        const invite = inviteToken && (signupInfo === null || signupInfo.invite === "valid") ? { inviteToken } : {};
        await api.auth.signup.mutate({ username: values.username, password: values.password, fullName: values.fullName.trim(), ...invite });
        if (inviteToken) {
          // The link is used: a reload or the next person here starts from the app's own address.
          window.history.replaceState(null, "", "/");
          setInviteToken(null);
        }
      }
      const tokens = await api.auth.login.mutate({ username: values.username, password: values.password });
      await onSignedIn(tokens);
    } catch (error) {
      setErrors(describeAuthError(error, mode));
      setBusy(false);
    }
  };

  const field = (name: AuthField, label: string, input: InputHTMLAttributes<HTMLInputElement>, hint?: string, addon?: ReactNode) => {
    const error = errors.fields[name];
    const inputId = `${id}-${name}`;
    const described = [hint ? `${inputId}-hint` : null, error ? `${inputId}-error` : null].filter(Boolean).join(" ");
    return (
      <div className="field">
        <label htmlFor={inputId}>{label}</label>
        <div className="field__control">
          <input
            id={inputId}
            name={name}
            value={values[name]}
            onChange={update(name)}
            aria-invalid={error ? true : undefined}
            aria-describedby={described || undefined}
            {...input}
          />
          {addon}
        </div>
        {hint && !error && (
          <p className="field__hint" id={`${inputId}-hint`}>
            {hint}
          </p>
        )}
        {error && (
          <p className="field__error" id={`${inputId}-error`}>
            {error}
          </p>
        )}
      </div>
    );
  };

  const signup = mode === "signup";
  const screen = signup ? signupScreen(signupInfo) : null;
  const noForm = screen && !screen.form ? screen : null;
  return (
    <div className="auth">
      <main className="auth__card" aria-labelledby={`${id}-title`}>
        <div className="auth__brand">
          <LogoMark size={40} />
          <span className="auth__name">Parley</span>
        </div>
        <h1 id={`${id}-title`} className="auth__title">
          {noForm ? noForm.title : signup ? "Create your account" : "Welcome back"}
        </h1>
        <p className="auth__subtitle">
          {noForm ? noForm.message : signup ? "Pick a username your colleagues will recognise." : "Log in to pick up where you left off."}
        </p>
        {screen?.form && screen.note && (
          <p className="auth__note" role="status">
            {screen.note}
          </p>
        )}

        {notice && !errors.form && (
          <div className="notice" role="status">
            <AlertIcon />
            <span>{notice}</span>
          </div>
        )}
        {errors.form && (
          <div className="notice notice--error" role="alert" tabIndex={-1} ref={errorRef}>
            <AlertIcon />
            <span>{errors.form}</span>
          </div>
        )}

        {!noForm && (
          <form ref={formRef} onSubmit={(event) => void submit(event)} noValidate className="auth__form">
            {signup && field("fullName", "Full name", { autoComplete: "name", maxLength: 100 }, "Optional. Shown next to your messages.")}
            {field(
              "username",
              "Username",
              { autoComplete: "username", autoCapitalize: "none", autoCorrect: "off", spellCheck: false, required: true },
              signup ? "3–32 letters, digits, _ . or -" : undefined,
            )}
            {field(
              "password",
              "Password",
              { type: showPassword ? "text" : "password", autoComplete: signup ? "new-password" : "current-password", required: true },
              signup ? "At least 8 characters." : undefined,
              <button type="button" className="field__toggle" onClick={() => setShowPassword((s) => !s)} aria-pressed={showPassword}>
                {showPassword ? "Hide" : "Show"}
                <span className="sr-only"> password</span>
              </button>,
            )}
            <button type="submit" className="button button--primary button--block" disabled={busy}>
              {busy ? (signup ? "Creating account…" : "Logging in…") : signup ? "Create account" : "Log in"}
            </button>
          </form>
        )}

        <p className="auth__switch">
          {signup ? "Already have an account?" : "New to Parley?"}{" "}
          <button type="button" className="link-button" onClick={() => switchMode(signup ? "login" : "signup")}>
            {signup ? "Log in" : "Create an account"}
          </button>
        </p>
      </main>
    </div>
  );
}
