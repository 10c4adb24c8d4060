import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import { router } from './router'
import { i18n, currentLocale } from './locales'
import { hooks } from './api/request'
import { useAuthStore } from './stores/auth'
import { bindCodes, vAccess } from './access'
import './styles.css'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia).use(i18n)
const auth = useAuthStore(pinia)
hooks.token = () => auth.token
hooks.unauthorized = () => auth.markExpired()
bindCodes(() => auth.codes)
app.directive('access', vAccess)
app.use(router)
document.documentElement.lang = currentLocale()
app.mount('#app')
