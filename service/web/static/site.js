// "获取验证码": asks the API for a one-time code for the phone typed in the same form.
// The API answers the same whether or not the phone has an account, and limits requests.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-phone-code]");
  if (!button) return;
  event.preventDefault();
  const form = button.form;
  const phone = form.querySelector("input[name=phone]").value.trim();
  const status = document.getElementById(button.getAttribute("aria-controls"));
  if (!/^1[3-9]\d{9}$/.test(phone)) {
    status.textContent = "请先填写正确的手机号 (enter a valid mobile number first)";
    return;
  }
  button.disabled = true;
  let answer;
  try {
    answer = await fetch("/api/v1/phone-codes", {
      method: "POST", headers: {"content-type": "application/json"},
      body: JSON.stringify({phone: phone, purpose: button.dataset.phoneCode}),
    });
  } catch (error) {
    answer = null;
  }
  if (answer && answer.status === 202) {
    status.textContent = "验证码已发送，5 分钟内有效 (the code was sent; valid for 5 minutes)";
    let left = 60;
    const label = button.textContent;
    const timer = setInterval(() => {
      left -= 1;
      button.textContent = left > 0 ? `${left} 秒后可重发` : label;
      if (left <= 0) { clearInterval(timer); button.disabled = false; }
    }, 1000);
  } else {
    const wait = answer && answer.headers.get("retry-after");
    status.textContent = wait ? `请求过于频繁，请 ${wait} 秒后再试 (too many requests)` :
      "暂时无法发送，请稍后再试 (could not send the code; try again later)";
    button.disabled = false;
  }
});

// "使用我现在的位置": fills the latitude and longitude fields from the phone's location
// (shown only where the browser offers it; nothing is sent anywhere but the form).
for (const button of document.querySelectorAll("button[data-locate]")) {
  if (!("geolocation" in navigator)) continue;
  button.hidden = false;
  button.addEventListener("click", () => {
    const form = button.form;
    const status = document.getElementById(button.getAttribute("aria-controls"));
    status.textContent = "正在获取位置… (locating)";
    navigator.geolocation.getCurrentPosition(
      (position) => {
        form.querySelector("input[name='location.lat']").value = position.coords.latitude.toFixed(5);
        form.querySelector("input[name='location.lon']").value = position.coords.longitude.toFixed(5);
        status.textContent = "已填入当前位置 (filled in)";
      },
      () => { status.textContent = "无法获取位置，请手动填写 (could not locate; type it in)"; },
      {timeout: 10000},
    );
  });
}
